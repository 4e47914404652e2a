/**
 * Header names h3relay itself sets, interned once, and the header factory of the h1 codecs (downstream and
 * upstream) that trusts them: a name checked when it was written into the source cannot turn invalid, so
 * {@link io.h3relay.headers.TrustedNames#factory()} skips Netty's per-character token check for exactly these
 * instances (compared by identity); every other name, above all each one a codec decodes, is checked as before.
 */
package io.h3relay.headers;
