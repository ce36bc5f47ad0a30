# pkg-config files for the installed libraries (included by the top-level CMakeLists.txt when
# HAPPY_DIAL_INSTALL is ON):
#   happy_dial.pc          Cflags: -I<includedir> -pthread       Libs: -L<libdir> -lhappy_dial -pthread
#   happy_dial_testing.pc  Requires: happy_dial                  Libs: -L<libdir> -lhappy_dial_testing
#
#   c++ -std=c++20 app.cpp $(pkg-config --cflags --libs happy_dial)
#
# -std=c++20 is left to the consumer (see happy_dial.pc.in). The paths are absolute and use the
# prefix of the install itself (cmake --install build --prefix DIR, or CMAKE_INSTALL_PREFIX), so
# the files are written in two steps: configure_file now fills in everything but the prefix,
# and an install(CODE) step fills in the prefix the install runs with.

# Boost's include directory goes into Cflags only when the compiler does not search it anyway.
get_target_property(_hd_boost_includes Boost::headers INTERFACE_INCLUDE_DIRECTORIES)
set(_hd_boost_cflags "")
foreach(_hd_dir IN LISTS _hd_boost_includes)
  if(NOT _hd_dir IN_LIST CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
    string(APPEND _hd_boost_cflags " -I${_hd_dir}")
  endif()
endforeach()
if(_hd_boost_cflags)
  set(PC_BOOST_NOTE "its directory is in Cflags")
else()
  set(PC_BOOST_NOTE "it is in the compiler's default search path")
endif()

# A static libhappy_dial built with the c-ares backend needs -lcares on the consumer's link line.
set(_hd_static_cares "")
if(HAPPY_DIAL_HAS_CARES AND NOT BUILD_SHARED_LIBS)
  set(_hd_static_cares " -lcares")
endif()

set(PC_PREFIX "@CMAKE_INSTALL_PREFIX@")  # filled in by the install step
foreach(_hd_kind LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${_hd_kind}}")
    set(PC_${_hd_kind} "${CMAKE_INSTALL_${_hd_kind}}")
  else()
    set(PC_${_hd_kind} "\${prefix}/${CMAKE_INSTALL_${_hd_kind}}")
  endif()
endforeach()

# happy_dial_pkg_config(NAME DESCRIPTION REQUIRES CFLAGS LIBS)
function(happy_dial_pkg_config PC_NAME PC_DESCRIPTION PC_REQUIRES PC_CFLAGS PC_LIBS)
  set(stage "${CMAKE_CURRENT_BINARY_DIR}/pkgconfig/${PC_NAME}.pc.in")
  set(out "${CMAKE_CURRENT_BINARY_DIR}/pkgconfig/${PC_NAME}.pc")
  file(READ ${PROJECT_SOURCE_DIR}/cmake/happy_dial.pc.in text)
  string(CONFIGURE "${text}" text @ONLY)
  string(REGEX REPLACE "\n(Requires|Cflags): *\n" "\n" text "${text}")  # empty fields
  file(WRITE "${stage}" "${text}")
  install(CODE "configure_file(\"${stage}\" \"${out}\" @ONLY)")
  install(FILES "${out}" DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endfunction()

happy_dial_pkg_config(happy_dial
  "RFC 8305 (Happy Eyeballs v2) TCP connections for Boost.Asio (C++20)"
  ""
  "-I\${includedir}${_hd_boost_cflags} -pthread"
  "-L\${libdir} -lhappy_dial${_hd_static_cares} -pthread")
happy_dial_pkg_config(happy_dial_testing
  "happy_dial's test kit: scripted networks for tests of code that uses happy_dial"
  "happy_dial = ${PROJECT_VERSION}"
  ""
  "-L\${libdir} -lhappy_dial_testing")
