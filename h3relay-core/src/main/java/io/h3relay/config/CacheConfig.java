package io.h3relay.config;

/**
 * The {@code policies.cache} block. Placeholder of the policies skeleton: the parser refuses the key
 * ("not supported yet") until the cache policy lands.
 */
public record CacheConfig() {
}
