package io.h3relay.listener.h3;

import io.h3relay.quic.StatelessResets;
import io.netty.channel.ChannelHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionIdGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * The stateless reset token of the connection id a connection starts with (sequence number 0, the id of the
 * handshake, sent in the {@code stateless_reset_token} transport parameter), derived from the listener's reset
 * key like the tokens of later ids ({@link StatelessResets}), so that another instance with the same key can reset
 * a connection that never migrated to a NEW_CONNECTION_ID id.
 * <p>
 * Netty 4.2.18 has no hook for it: quiche copies the token from the codec-wide config
 * ({@code quiche_config_set_stateless_reset_token}) when it creates a connection, and Netty's builder sets one
 * fixed token for all connections or none (its default: the client has no token for that id at all). RFC 9000
 * §10.3.2 forbids one token for several ids. So, per UDP socket (one codec, one config, one event loop): the SSL
 * engine provider, which Netty calls after the connection's id is chosen and just before quiche creates the
 * connection, writes that id's token into the config. Found by reflection into Netty's internals (the codec's
 * {@code config}, the channel's {@code sourceConnectionIds}, {@code Quiche}); when they differ in a later Netty
 * the handshake's id carries no token, as without this class (a warning says so at start).
 * <p>
 * Which id is the connection's: with a Retry the id the client echoed (the only one Netty records before
 * quiche's connection exists); without, the one our id generator just made ({@link #generator}) next to the
 * client's original destination id.
 * <p>
 * Budget: quiche encodes the server's transport parameters into a fixed 128-byte buffer ({@code tls/mod.rs}) and
 * fails to create the connection when they do not fit; the token takes 18 of them. So tokens are set only when
 * {@link #transportParametersSize} (worst case: a 20-byte original destination id) fits, and since the config's
 * token cannot be unset again, that is decided once per listener config. With the defaults it fits with
 * {@code retry: false} and not with a Retry (whose retry_source_connection_id takes 22 more bytes).
 */
final class HandshakeResetTokens {
    private static final Logger LOG = LoggerFactory.getLogger(HandshakeResetTokens.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static volatile boolean warned;

    private final StatelessResets resets;
    private final Recording generator;
    private Object config;
    private Method nativeAddress;
    private Method setToken;
    private Field sourceIds;

    /** quiche's buffer for the encoded transport parameters of a connection. */
    static final int QUICHE_BUDGET = 128;
    private static final int MARGIN = 6;

    private final boolean enabled;

    /** {@code transportParametersSize}: from {@link #transportParametersSize}; tokens only when it fits. */
    HandshakeResetTokens(StatelessResets resets, QuicConnectionIdGenerator ids, int transportParametersSize) {
        this.resets = resets;
        // A few bytes of margin for parameters a later quiche may add (active_connection_id_limit, GREASE).
        this.enabled = transportParametersSize <= QUICHE_BUDGET - MARGIN;
        this.generator = new Recording(ids != null ? ids : QuicConnectionIdGenerator.signGenerator());
    }

    /** Whether handshake ids get a derived token with this listener's settings (see the class comment). */
    boolean enabled() {
        return enabled;
    }

    /**
     * The size of the transport parameters quiche encodes for a server connection with these settings and a
     * stateless reset token, assuming the client's original destination id has the maximum length (20): each
     * parameter is its id and length (one byte each here) and its value; quiche writes only the ones that are
     * not zero (ack_delay_exponent 3 and max_ack_delay 25 are its defaults; max_udp_payload_size is the listener's
     * {@link Http3CodecFactory#MAX_DATAGRAM}).
     */
    static int transportParametersSize(long idleMillis, long maxData, long streamData, long maxBidi, long maxUni,
                                       boolean disableActiveMigration, boolean retry, int connectionIdLength) {
        int n = 2 + 20;                       // original_destination_connection_id (worst case)
        n += 2 + 16;                          // stateless_reset_token
        n += nonZero(idleMillis) + nonZero(Http3CodecFactory.MAX_DATAGRAM) + nonZero(maxData) + 3 * nonZero(streamData)
                + nonZero(maxBidi) + nonZero(maxUni) + nonZero(3) + nonZero(25);
        n += disableActiveMigration ? 2 : 0;
        n += 2 + connectionIdLength;          // initial_source_connection_id
        n += retry ? 2 + connectionIdLength : 0; // retry_source_connection_id
        return n;
    }

    private static int nonZero(long v) {
        return v == 0 ? 0 : 2 + (v < 64 ? 1 : v < 16384 ? 2 : v < (1L << 30) ? 4 : 8);
    }

    /** The id generator to give the codec builder: the given one (Netty's default when none), remembering its last id. */
    QuicConnectionIdGenerator generator() {
        return generator;
    }

    /** The generator to give the codec builder, or {@code ids} itself (null: Netty's default) when disabled. */
    QuicConnectionIdGenerator generatorOr(QuicConnectionIdGenerator ids) {
        return enabled ? generator : ids;
    }

    /** Finds the quiche config of the built codec; false (and a warning once) when Netty's internals differ. */
    boolean bind(ChannelHandler codec) {
        if (!enabled) {
            return false;
        }
        try {
            Field f = findField(codec.getClass(), "config");
            f.setAccessible(true);
            Object c = f.get(codec);
            Method na = c.getClass().getDeclaredMethod("nativeAddress");
            na.setAccessible(true);
            Class<?> quiche = Class.forName("io.netty.handler.codec.quic.Quiche", true, codec.getClass().getClassLoader());
            Method st = quiche.getDeclaredMethod("quiche_config_set_stateless_reset_token", long.class, byte[].class);
            st.setAccessible(true);
            Class<?> channel = Class.forName("io.netty.handler.codec.quic.QuicheQuicChannel", true, codec.getClass().getClassLoader());
            Field ids = channel.getDeclaredField("sourceConnectionIds");
            ids.setAccessible(true);
            this.config = c;
            this.nativeAddress = na;
            this.setToken = st;
            this.sourceIds = ids;
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            warnOnce(e);
            return false;
        }
    }

    /**
     * Called from the SSL engine provider of a new connection (on the socket's event loop, before quiche's
     * connection exists): puts the token of the connection's id into the config quiche is about to copy.
     */
    void beforeConnection(QuicChannel ch) {
        if (config == null) {
            return;
        }
        try {
            byte[] id = connectionId((Collection<?>) sourceIds.get(ch));
            byte[] token;
            if (id != null) {
                token = resets.token(ByteBuffer.wrap(id));
            } else {
                // Not known: a random token rather than the previous connection's (one token per id, RFC 9000 §10.3.2).
                token = new byte[16];
                RANDOM.nextBytes(token);
            }
            setToken.invoke(null, (long) nativeAddress.invoke(config), token);
        } catch (ReflectiveOperationException | RuntimeException e) {
            warnOnce(e);
            config = null;
        }
    }

    private byte[] connectionId(Collection<?> ids) {
        List<byte[]> all = new ArrayList<>(ids.size());
        for (Object o : ids) {
            ByteBuffer b = ((ByteBuffer) o).duplicate();
            byte[] a = new byte[b.remaining()];
            b.get(a);
            all.add(a);
        }
        if (all.size() == 1) {
            return all.get(0); // after a Retry: the id from our Retry, which the client echoed
        }
        byte[] last = generator.last;
        for (byte[] a : all) {
            if (last != null && Arrays.equals(a, last)) {
                return a;
            }
        }
        return null;
    }

    private static Field findField(Class<?> c, String name) throws NoSuchFieldException {
        for (Class<?> k = c; k != null; k = k.getSuperclass()) {
            try {
                return k.getDeclaredField(name);
            } catch (NoSuchFieldException ignored) {
                // look in the superclass
            }
        }
        throw new NoSuchFieldException(name);
    }

    private static void warnOnce(Exception e) {
        if (!warned) {
            warned = true;
            LOG.warn("HTTP/3: cannot set the stateless reset token of handshake connection ids through Netty's "
                    + "internals ({}); those ids get no token (later ids still get derived tokens)", e.toString());
        }
    }

    /** Delegates to the real generator and remembers the last id it made (one codec, one thread). */
    private static final class Recording implements QuicConnectionIdGenerator {
        private final QuicConnectionIdGenerator delegate;
        private volatile byte[] last;

        Recording(QuicConnectionIdGenerator delegate) {
            this.delegate = delegate;
        }

        private ByteBuffer remember(ByteBuffer id) {
            ByteBuffer d = id.duplicate();
            byte[] a = new byte[d.remaining()];
            d.get(a);
            last = a;
            return id;
        }

        @Override
        public ByteBuffer newId(int length) {
            return remember(delegate.newId(length));
        }

        @Override
        public ByteBuffer newId(ByteBuffer input, int length) {
            return remember(delegate.newId(input, length));
        }

        @Override
        public ByteBuffer newId(ByteBuffer scid, ByteBuffer dcid, int length) {
            return remember(delegate.newId(scid, dcid, length));
        }

        @Override
        public int maxConnectionIdLength() {
            return delegate.maxConnectionIdLength();
        }

        @Override
        public boolean isIdempotent() {
            return delegate.isIdempotent();
        }
    }
}
