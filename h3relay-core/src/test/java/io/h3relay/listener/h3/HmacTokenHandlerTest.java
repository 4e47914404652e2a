package io.h3relay.listener.h3;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;

import static org.assertj.core.api.Assertions.assertThat;

/** Retry tokens: accepted for the same client address, refused when tampered, moved or replayed elsewhere. */
class HmacTokenHandlerTest {
    final HmacTokenHandler tokens = new HmacTokenHandler();
    final InetSocketAddress client = new InetSocketAddress("192.0.2.10", 50000);
    final ByteBuf odcid = Unpooled.wrappedBuffer(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});

    private ByteBuf issue(InetSocketAddress to) {
        ByteBuf token = Unpooled.buffer();
        assertThat(tokens.writeToken(token, odcid.duplicate(), to)).isTrue();
        assertThat(token.readableBytes()).isLessThanOrEqualTo(tokens.maxTokenLength());
        return token;
    }

    @Test
    void validTokenGivesTheOriginalConnectionIdAsSuffix() {
        ByteBuf token = issue(client);
        int offset = tokens.validateToken(token, client);
        assertThat(offset).isPositive();
        assertThat(token.slice(offset, token.readableBytes() - offset)).isEqualTo(odcid);
    }

    @Test
    void tokenIsBoundToTheClientAddressAndPort() {
        ByteBuf token = issue(client);
        assertThat(tokens.validateToken(token, new InetSocketAddress("192.0.2.11", 50000))).isEqualTo(-1);
        assertThat(tokens.validateToken(token, new InetSocketAddress("192.0.2.10", 50001))).isEqualTo(-1);
    }

    @Test
    void tamperedOrForeignTokensAreRefused() {
        ByteBuf token = issue(client);
        ByteBuf tampered = token.copy();
        int last = tampered.writerIndex() - 1;
        tampered.setByte(last, tampered.getByte(last) ^ 1); // change the connection id
        assertThat(tokens.validateToken(tampered, client)).isEqualTo(-1);

        ByteBuf other = Unpooled.buffer();
        new HmacTokenHandler().writeToken(other, odcid.duplicate(), client); // another process's key
        assertThat(tokens.validateToken(other, client)).isEqualTo(-1);

        assertThat(tokens.validateToken(Unpooled.wrappedBuffer(new byte[5]), client)).isEqualTo(-1);
    }

    @Test
    void expiredTokensAreRefused() {
        ByteBuf token = issue(client);
        long old = System.currentTimeMillis() - HmacTokenHandler.LIFETIME_MILLIS - 1000;
        token.setLong(token.readerIndex(), old); // the MAC covers the timestamp: also invalid as tampering
        assertThat(tokens.validateToken(token, client)).isEqualTo(-1);
    }
}
