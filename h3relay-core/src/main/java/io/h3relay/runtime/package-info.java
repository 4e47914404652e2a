/**
 * The runtime snapshot: what the proxy serves with, built whole from a frozen config and swapped whole on
 * reload. An exchange captures its listener's part ({@link io.h3relay.runtime.ListenerRuntime}) once.
 */
package io.h3relay.runtime;
