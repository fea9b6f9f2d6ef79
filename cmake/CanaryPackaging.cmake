# Debian packages, made by CPack from the install components of
# cmake/CanaryInstall.cmake (scripts/package.sh configures a build for /usr
# and runs `cpack -G DEB`):
#   libcanaryN     the shared library; N is CANARY_SOVERSION, as in its SONAME
#   libcanary-dev  headers, static library, canary.pc, the CMake package,
#                  libcanary(3)
#   canary-server  canary-server and canaryctl, the systemd unit, the
#                  maintainer scripts (packaging/) that create the `canary`
#                  user and the key file, the man pages, bash completion
# Run-time dependencies are what dpkg-shlibdeps finds in the binaries; the
# -dev package's are the -dev packages its canary.pc and CMake package ask
# for. Package versions are the project version, Debian revision 1.
set(CANARY_DEB_MAINTAINER "libcanary maintainers <packages@libcanary.invalid>"
	CACHE STRING "Maintainer field of the Debian packages")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME canary)
set(CPACK_PACKAGE_VENDOR libcanary)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
# Each package's description starts with a synopsis line of its own; an
# empty common summary keeps CPack from putting the project's before it.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL lib dev)
if(TARGET canary-server AND TARGET canaryctl)
	list(APPEND CPACK_COMPONENTS_ALL server)
endif()

set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${CANARY_DEB_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_RELEASE ${CANARY_DEB_REVISION})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(canary_deb_version ${PROJECT_VERSION}-${CANARY_DEB_REVISION})

# The shared library: its shlibs file says which package provides
# libcanary.so.N from which version on (new symbols only ever come with a
# new version, incompatible changes with a new N).
set(CPACK_DEBIAN_LIB_PACKAGE_NAME libcanary${CANARY_SOVERSION})
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_LIB_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_COMPONENT_LIB_DESCRIPTION
"C SDK for canary releases driven by feature flags (shared library)
libcanary answers, in-process and without a lock, I/O or allocation,
whether a user gets the canary build of a flag, follows the flag service
(canary-server) over HTTP, caches the last good config in SQLite and
reports exposures, errors and latencies for the rollout controller.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libcanary-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
	"libcanary${CANARY_SOVERSION} (= ${canary_deb_version}), libcjson-dev, libsqlite3-dev, libcurl4-openssl-dev | libcurl-dev, libpcre2-dev, pkgconf | pkg-config")
set(CPACK_COMPONENT_DEV_DESCRIPTION
"C SDK for canary releases driven by feature flags (development files)
The C header canary/canary.h, the C++ wrapper canary/canary.hpp, the
static library, the pkg-config file (canary), the CMake package
(find_package(canary), targets canary::canary and canary::canary_static)
and the API overview libcanary(3).")

set(CPACK_DEBIAN_SERVER_PACKAGE_NAME canary-server)
set(CPACK_DEBIAN_SERVER_PACKAGE_SECTION net)
set(CPACK_DEBIAN_SERVER_PACKAGE_SHLIBDEPS ON)
# The dashboard draws its charts with Debian's dygraphs (--ui-lib-dir).
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "passwd, libjs-dygraphs")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
	${PROJECT_SOURCE_DIR}/packaging/postinst
	${PROJECT_SOURCE_DIR}/packaging/prerm
	${PROJECT_SOURCE_DIR}/packaging/postrm)
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_COMPONENT_SERVER_DESCRIPTION
"flag service and rollout controller for libcanary
canary-server serves flag configs to libcanary clients, collects the
events they report into SQLite and runs the rollout controller that
widens a canary step by step or rolls it back. canaryctl is its
command-line client. The package runs the server as the system user
canary through a systemd unit, with keys generated at first install in
/etc/default/canary-server.")

include(CPack)
