include(CMakePackageConfigHelpers)

install(TARGETS accelerator EXPORT acceleratorTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/accelerator DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT acceleratorTargets NAMESPACE accelerator:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/accelerator)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/acceleratorConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/acceleratorConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/accelerator)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/acceleratorConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/acceleratorConfig.cmake ${PROJECT_BINARY_DIR}/acceleratorConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/accelerator)
