package io.h3relay.cli;

import io.h3relay.client.ErrorKind;

/** Exit codes of every command (documented in the README and docs/cli.md). */
final class ExitCodes {
    static final int OK = 0;
    /** Invalid config, start failure, or an unexpected internal error. */
    static final int FAILURE = 1;
    static final int USAGE = 2;
    static final int CONNECT = 3;
    static final int TLS = 4;
    /** Reset, closed before the response ended, or a malformed response. */
    static final int PROTOCOL = 5;
    static final int TIMEOUT = 6;
    /** A local file could not be read or written (--data @FILE, -o FILE, --cacert). */
    static final int FILE = 7;
    /** bench: the run finished, but some requests failed (see the errors by kind). */
    static final int BENCH_ERRORS = 8;
    /** request --grpc: a call ended with a grpc-status other than 0 (OK), or without one. */
    static final int GRPC_STATUS = 9;

    private ExitCodes() {
    }

    static int of(ErrorKind kind) {
        return switch (kind) {
            case CONNECT -> CONNECT;
            case TLS -> TLS;
            case TIMEOUT -> TIMEOUT;
            case RESET, CLOSED, PROTOCOL -> PROTOCOL;
        };
    }
}
