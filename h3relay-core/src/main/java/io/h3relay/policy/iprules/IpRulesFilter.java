package io.h3relay.policy.iprules;

import io.h3relay.config.Cidr;
import io.h3relay.config.IpRulesConfig;
import io.h3relay.exchange.ErrorCode;
import io.h3relay.exchange.ProxyError;
import io.h3relay.filter.Filter;
import io.h3relay.filter.FilterContext;
import io.h3relay.filter.FilterResult;
import io.netty.handler.codec.http.HttpRequest;

/**
 * {@code policies.ip_rules}: the client address ({@link FilterContext#clientAddress()}: the PROXY protocol's
 * source, or X-Forwarded-For through trusted proxies) against deny, then allow. A refusal is 403 with the
 * JSON envelope; nothing is allocated for a request that passes.
 */
public final class IpRulesFilter implements Filter {
    private static final ProxyError FORBIDDEN = new ProxyError(ErrorCode.FORBIDDEN,
            "the client address is not allowed on this route");

    private final Cidr[] allow;
    private final Cidr[] deny;
    private final java.util.concurrent.atomic.LongAdder forbidden;

    public IpRulesFilter(IpRulesConfig config) {
        this(config, null);
    }

    /** @param forbidden counts refusals (null: not counted) */
    public IpRulesFilter(IpRulesConfig config, java.util.concurrent.atomic.LongAdder forbidden) {
        this.allow = config.allow().toArray(Cidr[]::new);
        this.deny = config.deny().toArray(Cidr[]::new);
        this.forbidden = forbidden;
    }

    /** True when {@code address} may pass. */
    public boolean allows(java.net.InetAddress address) {
        if (address == null) {
            return allow.length == 0 && deny.length == 0;
        }
        if (Cidr.any(deny, address)) {
            return false;
        }
        return allow.length == 0 || Cidr.any(allow, address);
    }

    @Override
    public FilterResult onRouted(FilterContext ctx, HttpRequest head) {
        if (allows(ctx.clientAddress())) {
            return FilterResult.CONTINUE;
        }
        if (forbidden != null) {
            forbidden.increment();
        }
        return FilterResult.reject(FORBIDDEN);
    }
}
