/* Stand-in on the core layers' include path (tools/layers): the sans-I/O
 * core must never see the event loop or the resolver library. */
#error "ares.h is for src/daemon only: the layers below it are sans-I/O (src/DESIGN.md)"
