/** Test fixtures shared by modules: test endpoints, external clients, certificates. */
package io.h3relay.testing;
