package io.h3relay.headers;

import io.netty.handler.codec.DefaultHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.util.AsciiString;

/**
 * The header names the proxy sets on every request or response (forwarding headers, the request id, Via,
 * framing), as shared {@link AsciiString} instances, and a header factory whose name check lets exactly these
 * instances through without the character-by-character token validation. Netty validates a name on every
 * {@code set}/{@code add}, so a forwarded h1 request paid for checking {@code x-forwarded-proto} and the rest
 * again on each request (5% of the event loop's Java samples in bench/h1-cost.sh --profile, with the
 * decoders' own checks).
 *
 * <p>The test is by identity: a decoded name is a new instance and is always validated, as are names from
 * configuration ({@code request_headers.add}) and any name not in the table.
 */
public final class TrustedNames {
    public static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
    public static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    public static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    public static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    public static final AsciiString FORWARDED = AsciiString.cached("forwarded");
    public static final AsciiString ALT_SVC = AsciiString.cached("alt-svc");

    private static final AsciiString[] TRUSTED = {
            X_REQUEST_ID, X_FORWARDED_FOR, X_FORWARDED_PROTO, X_FORWARDED_HOST, FORWARDED, ALT_SVC,
            HttpHeaderNames.VIA, HttpHeaderNames.CONNECTION, HttpHeaderNames.TRANSFER_ENCODING,
            HttpHeaderNames.CONTENT_LENGTH,
    };
    /** TRUSTED by hash (AsciiString caches it): one slot each; a name whose slot is taken is simply validated. */
    private static final AsciiString[] TABLE = new AsciiString[64];

    static {
        for (AsciiString name : TRUSTED) {
            int slot = name.hashCode() & (TABLE.length - 1);
            if (TABLE[slot] == null) {
                TABLE[slot] = name;
            }
        }
    }

    private static final DefaultHeaders.NameValidator<CharSequence> NETTY =
            DefaultHttpHeadersFactory.headersFactory().getNameValidator();
    private static final DefaultHeaders.NameValidator<CharSequence> VALIDATOR = name -> {
        if (!isTrusted(name)) {
            NETTY.validateName(name);
        }
    };
    private static final HttpHeadersFactory FACTORY = DefaultHttpHeadersFactory.headersFactory()
            .withNameValidator(VALIDATOR);

    private TrustedNames() {
    }

    /** True for one of the shared instances above (not for an equal name in another instance). */
    static boolean isTrusted(CharSequence name) {
        return name instanceof AsciiString a && TABLE[a.hashCode() & (TABLE.length - 1)] == a;
    }

    /** Netty's default headers (name and value validation), trusting the shared names above. */
    public static HttpHeadersFactory factory() {
        return FACTORY;
    }
}
