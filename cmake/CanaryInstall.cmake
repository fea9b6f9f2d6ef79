# Install the libraries, public headers, canary.pc and a CMake package so
# that both `pkg-config canary` and `find_package(canary)` work.
include(CMakePackageConfigHelpers)

install(TARGETS canary canary_static EXPORT canaryTargets
	LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
	ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
	RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/canary DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
	FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")
install(FILES ${PROJECT_BINARY_DIR}/include/canary/version.h
	DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/canary)

install(EXPORT canaryTargets NAMESPACE canary::
	DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/canary)
configure_package_config_file(cmake/canaryConfig.cmake.in
	${PROJECT_BINARY_DIR}/canaryConfig.cmake
	INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/canary)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/canaryConfigVersion.cmake
	COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/canaryConfig.cmake
	${PROJECT_BINARY_DIR}/canaryConfigVersion.cmake
	DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/canary)

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
	DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
