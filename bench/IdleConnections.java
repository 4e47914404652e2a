// bench/IdleConnections.java: opens idle connections to an h3relay TLS listener and holds them, for
// bench/idle-connections.sh. Run with the test fixtures' class path (Netty, h3relay-client):
//   java -cp CP bench/IdleConnections.java HOST PORT H1 H2 H3 HOLD_SECONDS
// h1: TLS (ALPN http/1.1), one GET, then idle on keep-alive. h2: TLS (ALPN h2), preface and SETTINGS (and
// the ACK of the server's), then idle. h3: a QUIC connection with HTTP/3's control streams, then idle.
// Prints "ready h1=N h2=N h3=N" once all are open (failures counted apart), holds them, then closes all.
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ClientConnectionHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

public class IdleConnections {
    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        int h1 = Integer.parseInt(args[2]), h2 = Integer.parseInt(args[3]), h3 = Integer.parseInt(args[4]);
        long hold = Long.parseLong(args[5]);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        AtomicInteger failed = new AtomicInteger();
        List<Channel> open = new ArrayList<>();
        try {
            SslContext tls1 = tls("http/1.1"), tls2 = tls("h2");
            open.addAll(tcp(group, host, port, tls1, h1, false, failed));
            open.addAll(tcp(group, host, port, tls2, h2, true, failed));
            open.addAll(quic(group, host, port, h3, failed));
            System.out.printf("ready h1=%d h2=%d h3=%d failed=%d%n", h1, h2, h3, failed.get());
            System.out.flush();
            Thread.sleep(TimeUnit.SECONDS.toMillis(hold));
            long alive = open.stream().filter(Channel::isActive).count();
            System.out.printf("still open after %d s: %d of %d%n", hold, alive, open.size());
        } finally {
            open.forEach(Channel::close);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    static SslContext tls(String alpn) throws Exception {
        return SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE)
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, alpn)).build();
    }

    static List<Channel> tcp(EventLoopGroup group, String host, int port, SslContext tls, int n, boolean h2,
                             AtomicInteger failed) throws Exception {
        byte[] hello = h2
                ? concat("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII), new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0})
                : ("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] settingsAck = {0, 0, 0, 4, 1, 0, 0, 0, 0};
        Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class).handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(tls.newHandler(ch.alloc(), host, port));
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    boolean acked;

                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                        if (evt instanceof SslHandshakeCompletionEvent e && e.isSuccess()) {
                            ctx.writeAndFlush(Unpooled.wrappedBuffer(hello));
                        }
                    }

                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ReferenceCountUtil.release(msg);
                        if (h2 && !acked) {
                            acked = true; // the server's SETTINGS came first: ACK it once
                            ctx.writeAndFlush(Unpooled.wrappedBuffer(settingsAck));
                        }
                    }
                });
            }
        });
        List<Channel> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ChannelFuture f = b.connect(host, port).await();
            if (f.isSuccess()) {
                out.add(f.channel());
            } else {
                failed.incrementAndGet();
            }
        }
        return out;
    }

    static List<Channel> quic(EventLoopGroup group, String host, int port, int n, AtomicInteger failed) throws Exception {
        QuicSslContext tls = QuicSslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE)
                .applicationProtocols(Http3.supportedApplicationProtocols()).build();
        var codec = Http3.newQuicClientCodecBuilder().sslContext(tls).maxIdleTimeout(30, TimeUnit.MINUTES)
                .initialMaxData(1 << 20).initialMaxStreamDataBidirectionalLocal(64 << 10)
                .initialMaxStreamsBidirectional(10).initialMaxStreamsUnidirectional(10).build();
        Channel udp = new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(codec).bind(0).sync().channel();
        List<Channel> out = new ArrayList<>();
        out.add(udp);
        for (int i = 0; i < n; i++) {
            try {
                QuicChannel q = QuicChannel.newBootstrap(udp).handler(new Http3ClientConnectionHandler())
                        .remoteAddress(new InetSocketAddress(host, port)).connect().get(10, TimeUnit.SECONDS);
                out.add(q);
            } catch (Exception e) {
                failed.incrementAndGet();
            }
        }
        return out;
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = new byte[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
