/* The version string, bumped by hand with each release. */
#ifndef ROOTWALK_VERSION_H
#define ROOTWALK_VERSION_H
#define RW_VERSION "0.1.0"
#endif
