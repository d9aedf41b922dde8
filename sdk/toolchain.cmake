# toolchain.cmake: builds nabla guests with CMake (docs/guests.md).
#
#   cmake -DCMAKE_TOOLCHAIN_FILE=PREFIX/share/nabla/toolchain.cmake -S . -B build
#
# C targets compile and link with PREFIX/bin/nabla-cc: add_executable(app
# ...) makes the guest image app.nabla, add_library(... STATIC ...) an
# archive of guest objects. There are no shared libraries. The prefix is
# found relative to this file, so a moved prefix works.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

get_filename_component(NABLA_PREFIX "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
set(CMAKE_C_COMPILER "${NABLA_PREFIX}/bin/nabla-cc")
set(CMAKE_ASM_COMPILER "${NABLA_PREFIX}/bin/nabla-cc")
set(CMAKE_EXECUTABLE_SUFFIX ".nabla")
set(CMAKE_EXECUTABLE_SUFFIX_C ".nabla")
set(BUILD_SHARED_LIBS OFF)

# Headers and libraries come from the nabla prefix, programs (code
# generators run during the build) from the host.
set(CMAKE_FIND_ROOT_PATH "${NABLA_PREFIX}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
