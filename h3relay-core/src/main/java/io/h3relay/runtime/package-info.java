/**
 * The runtime snapshot: what the proxy serves with ({@link io.h3relay.runtime.Runtime}: clusters and each
 * listener's routes, limits and observers), built whole from a frozen config and swapped whole through one
 * reference ({@link io.h3relay.runtime.RuntimeHolder}). An exchange captures its listener's part
 * ({@link io.h3relay.runtime.ListenerRuntime}) once.
 */
package io.h3relay.runtime;
