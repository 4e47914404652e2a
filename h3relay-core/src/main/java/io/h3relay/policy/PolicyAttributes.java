package io.h3relay.policy;

import io.h3relay.exchange.ExchangeAttribute;

import java.util.Map;

/** What one policy leaves on an exchange for the ones after it. */
public final class PolicyAttributes {
    /** The verified JWT's claims (authentication), for rate-limit keys by claim. */
    public static final ExchangeAttribute<Map<String, Object>> CLAIMS = ExchangeAttribute.of("policy.jwt_claims");

    private PolicyAttributes() {
    }
}
