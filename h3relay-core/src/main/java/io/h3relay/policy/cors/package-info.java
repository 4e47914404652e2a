/**
 * CORS: a route's cross-origin policy; preflight requests ({@code OPTIONS} with
 * {@code Access-Control-Request-Method}) are answered by the proxy, actual responses get the
 * {@code Access-Control-Allow-*} headers.
 */
package io.h3relay.policy.cors;
