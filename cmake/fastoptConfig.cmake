# CMake package file of fastopt's C++ headers, installed with the Python package
# at fastopt/share/cmake/fastopt. Find it with
#   cmake -Dfastopt_DIR="$(python -c 'import fastopt; print(fastopt.get_cmake_dir())')"
# or with the package directory (python -c 'import fastopt, os;
# print(os.path.dirname(fastopt.__file__))') in CMAKE_PREFIX_PATH.
#
# Defines the INTERFACE target fastopt::headers: the update rules of
# fastopt/rules/*.hpp, header-only C++17 that also compiles as CUDA device code.

get_filename_component(_fastopt_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
set(fastopt_INCLUDE_DIR "${_fastopt_prefix}/include")
unset(_fastopt_prefix)

if(NOT EXISTS "${fastopt_INCLUDE_DIR}/fastopt/common.hpp")
  set(fastopt_FOUND FALSE)
  set(fastopt_NOT_FOUND_MESSAGE
      "fastopt's headers are missing from ${fastopt_INCLUDE_DIR}; reinstall fastopt")
  return()
endif()

if(NOT TARGET fastopt::headers)
  add_library(fastopt::headers INTERFACE IMPORTED)
  set_target_properties(fastopt::headers PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${fastopt_INCLUDE_DIR}"
    INTERFACE_COMPILE_FEATURES cxx_std_17)
endif()
