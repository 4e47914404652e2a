package io.h3relay.listener;

import io.h3relay.exchange.ProxiedClient;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.util.NetUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The PROXY protocol (v1 text or v2 binary, HAProxy's spec) at the head of a TCP connection of a listener
 * with {@code proxy_protocol: true}: Netty's decoder reads the header, this handler keeps its source address
 * as the connection's client ({@link ProxiedClient}) and leaves the pipeline. A {@code LOCAL} command (a
 * balancer's own health check) or an {@code UNKNOWN} family keeps the socket's peer. A connection that does
 * not start with a valid header is closed: on such a listener, a client that could skip it could claim any
 * address.
 */
final class ProxyProtocolReader extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyProtocolReader.class);

    static void add(io.netty.channel.ChannelPipeline p) {
        p.addFirst("proxy-protocol-reader", new ProxyProtocolReader());
        p.addFirst("proxy-protocol", new HAProxyMessageDecoder());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HAProxyMessage m)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            if (m.command() == HAProxyCommand.PROXY && m.sourceAddress() != null) {
                InetAddress source = literal(m.sourceAddress());
                if (source != null) {
                    ctx.channel().attr(ProxiedClient.ADDRESS).set(source);
                }
            }
        } finally {
            m.release();
        }
        ctx.pipeline().remove(this);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (ctx.pipeline().get(HAProxyMessageDecoder.class) != null || cause instanceof
                io.netty.handler.codec.haproxy.HAProxyProtocolException) {
            LOG.debug("closing {}: no valid PROXY protocol header: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    private static InetAddress literal(String s) {
        byte[] b = NetUtil.createByteArrayFromIpAddressString(s);
        try {
            return b == null ? null : InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
