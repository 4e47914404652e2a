package io.h3relay.config;

/**
 * The {@code policies.compression} block. Placeholder of the policies skeleton: the parser refuses the key
 * ("not supported yet") until the compression policy lands.
 */
public record CompressionConfig() {
}
