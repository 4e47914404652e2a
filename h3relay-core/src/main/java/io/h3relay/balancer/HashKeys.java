package io.h3relay.balancer;

import io.h3relay.endpoint.Endpoint;
import io.h3relay.config.ClusterConfig.HashOn;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * What ring_hash and maglev hash: the request key named by {@link HashOn}, and each endpoint's identity.
 * Endpoints are hashed by address (their configured identity), never by object identity, so a rebuilt
 * snapshot with new Endpoint objects lands every key where it was.
 */
final class HashKeys {
    /** Seed for request keys; ring points use the same so keys and points live on one circle. */
    static final long KEY_SEED = 0;

    private final HashOn hashOn;

    HashKeys(HashOn hashOn) {
        this.hashOn = Objects.requireNonNull(hashOn, "hashOn (required for ring_hash and maglev)");
        if (hashOn.source() != HashOn.Source.SOURCE_IP) {
            Objects.requireNonNull(hashOn.name(), "hashOn.name (required for header and cookie)");
        }
    }

    /**
     * The request's key bytes, or null when the request has none. An empty header or cookie counts as
     * missing: hashing it would pile every such request onto one endpoint.
     */
    byte[] key(PickContext context) {
        return switch (hashOn.source()) {
            case HEADER -> utf8(context.header(hashOn.name()));
            case COOKIE -> utf8(context.cookie(hashOn.name()));
            case SOURCE_IP -> {
                InetAddress address = context.sourceAddress();
                yield address == null ? null : address.getAddress();
            }
        };
    }

    static String identity(Endpoint endpoint) {
        return endpoint.address().toString();
    }

    private static byte[] utf8(String value) {
        return value == null || value.isEmpty() ? null : value.getBytes(StandardCharsets.UTF_8);
    }
}
