include(CMakePackageConfigHelpers)
install(EXPORT rungTargets NAMESPACE rung:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rung)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/rungConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/rungConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rung
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/rungConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/rungConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/rungConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rung)
