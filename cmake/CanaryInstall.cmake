# Install the libraries, public headers, canary.pc and a CMake package so
# that both `pkg-config canary` and `find_package(canary)` work, the man
# pages and, with the server, its systemd unit and canaryctl's bash
# completion. Every file belongs to one component, and each component is
# one Debian package (cmake/CanaryPackaging.cmake):
#   lib     the shared library
#   dev     what a build against it needs
#   server  canary-server and canaryctl (server-stub/CMakeLists.txt installs
#           the binaries) with what runs them
include(CMakePackageConfigHelpers)

install(TARGETS canary canary_static EXPORT canaryTargets
	LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
		COMPONENT lib NAMELINK_COMPONENT dev
	ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
	RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT lib)
install(DIRECTORY include/canary DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
	COMPONENT dev FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")
install(FILES ${PROJECT_BINARY_DIR}/include/canary/version.h
	DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/canary COMPONENT dev)

install(EXPORT canaryTargets NAMESPACE canary::
	DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/canary COMPONENT dev)
configure_package_config_file(cmake/canaryConfig.cmake.in
	${PROJECT_BINARY_DIR}/canaryConfig.cmake
	INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/canary)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/canaryConfigVersion.cmake
	COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/canaryConfig.cmake
	${PROJECT_BINARY_DIR}/canaryConfigVersion.cmake
	DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/canary COMPONENT dev)

# pkg-config: absolute paths when the install dirs are relative.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
	set(CANARY_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
	set(CANARY_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
	set(CANARY_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
	set(CANARY_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
# prefix relative to the .pc file, so the install can be relocated with
# `cmake --install --prefix`.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
	set(CANARY_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
	file(RELATIVE_PATH CANARY_PC_UP "/x/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/x")
	set(CANARY_PC_PREFIX "\${pcfiledir}/${CANARY_PC_UP}")
endif()
configure_file(cmake/canary.pc.in ${PROJECT_BINARY_DIR}/canary.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/canary.pc
	DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# Man pages (docs/man/), gzipped as Debian policy asks; -n leaves the
# time stamp out, so two builds make the same package.
function(canary_install_man page section component)
	set(src ${PROJECT_SOURCE_DIR}/docs/man/${page}.${section})
	set(copy ${PROJECT_BINARY_DIR}/man/${page}.${section})
	add_custom_command(OUTPUT ${copy}.gz
		COMMAND ${CMAKE_COMMAND} -E copy ${src} ${copy}
		COMMAND gzip -9nf ${copy}
		DEPENDS ${src} VERBATIM)
	set_property(GLOBAL APPEND PROPERTY CANARY_MAN_PAGES ${copy}.gz)
	install(FILES ${copy}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section}
		COMPONENT ${component})
endfunction()
canary_install_man(libcanary 3 dev)

# The service: a systemd unit (relative to the prefix, so /usr/lib/systemd
# in the package and /usr/local/lib/systemd for a local install, both
# places systemd reads) and canaryctl's bash completion.
set(CANARY_SYSTEMD_UNIT_DIR lib/systemd/system CACHE STRING
	"Where the systemd unit of canary-server is installed (relative: under the prefix)")
if(TARGET canary-server AND TARGET canaryctl)
	canary_install_man(canary-server 8 server)
	canary_install_man(canaryctl 1 server)
	configure_file(packaging/canary-server.service.in
		${PROJECT_BINARY_DIR}/canary-server.service @ONLY)
	install(FILES ${PROJECT_BINARY_DIR}/canary-server.service
		DESTINATION ${CANARY_SYSTEMD_UNIT_DIR} COMPONENT server)
	install(FILES packaging/canaryctl.bash RENAME canaryctl
		DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
		COMPONENT server)
endif()
get_property(canary_man_gz GLOBAL PROPERTY CANARY_MAN_PAGES)
add_custom_target(canary_man_pages ALL DEPENDS ${canary_man_gz})
