package io.h3relay.config;

/** A scalar value read from the config, after environment substitution, with where it came from. */
record Scalar(String text, String path, int line) {}
