/**
 * Authentication: JWT (JWKS keys), API keys (hashed in config), HTTP Basic (bcrypt) and client-certificate
 * identity; 401 with {@code WWW-Authenticate} or 403 with the JSON envelope, identity forwarded upstream as
 * request headers.
 */
package io.h3relay.policy.auth;
