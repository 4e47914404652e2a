package io.h3relay.upstream;

import io.h3relay.config.ClusterConfig;
import io.h3relay.config.HostPort;
import io.h3relay.endpoint.Endpoint;
import io.h3relay.transport.Transport;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The parts of {@link FallbackPool} that need no network: the back-off schedule and the Alt-Svc cache. */
class FallbackPoolTest {
    private static final ClusterConfig.ProtocolPolicy POLICY = new ClusterConfig.ProtocolPolicy(true,
            Duration.ofMillis(300), Duration.ofMinutes(5), Duration.ofMinutes(30));

    @Test
    void backoffStartsAtTheBaseDoublesAndIsCapped() {
        assertThat(Duration.ofNanos(FallbackPool.backoffNanos(POLICY, 1))).isEqualTo(Duration.ofMinutes(5));
        assertThat(Duration.ofNanos(FallbackPool.backoffNanos(POLICY, 2))).isEqualTo(Duration.ofMinutes(10));
        assertThat(Duration.ofNanos(FallbackPool.backoffNanos(POLICY, 3))).isEqualTo(Duration.ofMinutes(20));
        assertThat(Duration.ofNanos(FallbackPool.backoffNanos(POLICY, 4))).isEqualTo(Duration.ofMinutes(30));
        assertThat(Duration.ofNanos(FallbackPool.backoffNanos(POLICY, 60))).isEqualTo(Duration.ofMinutes(30));
    }

    private static FallbackPool autoPool(int port) throws Exception {
        ClusterConfig config = new ClusterConfig("c", ClusterConfig.UpstreamProtocol.AUTO,
                ClusterConfig.LoadBalancerKind.ROUND_ROBIN, null,
                List.of(new ClusterConfig.EndpointConfig(new HostPort("example.test", port), 1)), Duration.ofSeconds(1),
                ClusterConfig.Pool.defaults(), new ClusterConfig.UpstreamTls(true, null, null, null, null), null, null,
                null, null);
        Endpoint e = new Endpoint(new HostPort("example.test", port), 1);
        CircuitBreakers breakers = new CircuitBreakers(null);
        Transport transport = Transport.detect();
        UpstreamConnector tcp = new UpstreamConnector(transport, config, null);
        return new FallbackPool(e, config.protocolPolicy(),
                new Http3Pool(e, config.pool(), QuicUpstreamConnector.create(config, transport), breakers),
                new Http2Pool(e, config.pool(), tcp, breakers, true), new Http1Pool(e, config.pool(), tcp, breakers), true);
    }

    @Test
    void altSvcH3OnTheSamePortIsCachedForItsMaxAgeAndClearRemovesIt() throws Exception {
        FallbackPool p = autoPool(8443);
        assertThat(p.protocol()).isEqualTo(UpstreamProtocol.HTTP_2);
        p.altSvc("h3=\":8443\"; ma=3600, h3-29=\":8443\"");
        assertThat(p.protocol()).isEqualTo(UpstreamProtocol.HTTP_3);
        assertThat(p.altSvcForMillis()).isBetween(3_590_000L, 3_600_000L);
        p.altSvc("clear");
        assertThat(p.protocol()).isEqualTo(UpstreamProtocol.HTTP_2);
        p.altSvc("h3=\"example.test:8443\"");
        assertThat(p.altSvcForMillis()).isGreaterThan(86_000_000L); // no ma: 24 hours
        p.altSvc("h3=\":8443\"; ma=0");
        assertThat(p.altSvcForMillis()).isZero();
    }

    @Test
    void altSvcOnAnotherPortOrHostIsNotUsed() throws Exception {
        FallbackPool p = autoPool(8443);
        p.altSvc("h3=\":443\"; ma=3600");
        p.altSvc("h3=\"other.test:8443\"; ma=3600");
        p.altSvc("h2=\":8443\"; ma=3600");
        p.altSvc("h3=\":8443\"; ma=soon");
        assertThat(p.altSvcForMillis()).isZero();
        assertThat(p.protocol()).isEqualTo(UpstreamProtocol.HTTP_2);
    }
}
