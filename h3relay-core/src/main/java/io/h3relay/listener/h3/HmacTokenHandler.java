package io.h3relay.listener.h3;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.quic.QuicTokenHandler;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;

/**
 * Stateless retry tokens (RFC 9000 §8.1.2) that a client cannot forge: {@code timestamp | mac | odcid}
 * (Netty reads the original destination connection id as the token's suffix), the MAC (HMAC-SHA256, truncated to 16 bytes) covering the timestamp, the client address and port, and
 * the original destination connection id. Tokens expire after {@link #LIFETIME_MILLIS}. The key is random
 * per process: a restart invalidates outstanding tokens, which only costs a client one more round trip.
 */
final class HmacTokenHandler implements QuicTokenHandler {
    static final long LIFETIME_MILLIS = 30_000;
    private static final int MAC_LENGTH = 16;
    private static final int MAX_CID_LENGTH = 20; // RFC 9000 §17.2
    private static final int PREFIX = 8;          // timestamp

    private final SecretKeySpec key;
    private final ThreadLocal<Mac> macs;
    private final Runnable onRetry;

    HmacTokenHandler() {
        this(() -> { });
    }

    /** {@code onRetry} runs for every token written: each one goes out in a Retry packet. */
    HmacTokenHandler(Runnable onRetry) {
        this.onRetry = onRetry;
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        this.key = new SecretKeySpec(secret, "HmacSHA256");
        this.macs = ThreadLocal.withInitial(() -> {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(key);
                return mac;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 unavailable", e);
            }
        });
    }

    @Override
    public boolean writeToken(ByteBuf out, ByteBuf dcid, InetSocketAddress address) {
        long now = System.currentTimeMillis();
        byte[] odcid = new byte[dcid.readableBytes()];
        dcid.getBytes(dcid.readerIndex(), odcid);
        out.writeLong(now);
        out.writeBytes(mac(now, odcid, address));
        out.writeBytes(odcid);
        onRetry.run();
        return true;
    }

    @Override
    public int validateToken(ByteBuf token, InetSocketAddress address) {
        int len = token.readableBytes();
        int cidLength = len - PREFIX - MAC_LENGTH;
        if (cidLength < 0 || cidLength > MAX_CID_LENGTH) {
            return -1;
        }
        int start = token.readerIndex();
        long issued = token.getLong(start);
        long age = System.currentTimeMillis() - issued;
        if (age < 0 || age > LIFETIME_MILLIS) {
            return -1;
        }
        byte[] mac = new byte[MAC_LENGTH];
        token.getBytes(start + PREFIX, mac);
        byte[] odcid = new byte[cidLength];
        token.getBytes(start + PREFIX + MAC_LENGTH, odcid);
        if (!MessageDigest.isEqual(mac, mac(issued, odcid, address))) {
            return -1;
        }
        return PREFIX + MAC_LENGTH;
    }

    @Override
    public int maxTokenLength() {
        return PREFIX + MAX_CID_LENGTH + MAC_LENGTH;
    }

    private byte[] mac(long timestamp, byte[] odcid, InetSocketAddress address) {
        Mac mac = macs.get();
        mac.reset();
        for (int i = 7; i >= 0; i--) {
            mac.update((byte) (timestamp >>> (i * 8)));
        }
        mac.update(address.getAddress().getAddress());
        mac.update((byte) (address.getPort() >>> 8));
        mac.update((byte) address.getPort());
        mac.update(odcid);
        byte[] full = mac.doFinal();
        byte[] out = new byte[MAC_LENGTH];
        System.arraycopy(full, 0, out, 0, MAC_LENGTH);
        return out;
    }
}
