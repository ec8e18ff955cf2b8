# Every third-party dependency is found here, once, so targets only link names.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SNDFILE REQUIRED IMPORTED_TARGET sndfile)
pkg_check_modules(SOXR REQUIRED IMPORTED_TARGET soxr)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(Threads REQUIRED)
# `gafx weights fetch`: libcurl for the download, OpenSSL's libcrypto for the SHA-256 check.
# Optional so the engine still builds where only libtorch is (the GPU machine); there fetch
# says it cannot, and weights are copied over by hand.
find_package(CURL QUIET)
find_package(OpenSSL QUIET COMPONENTS Crypto)
if(CURL_FOUND AND OpenSSL_FOUND)
  set(GAFX_HAVE_FETCH ON)
else()
  set(GAFX_HAVE_FETCH OFF)
  message(STATUS "libcurl or OpenSSL not found: gafx weights fetch is left out (Debian: libcurl4-openssl-dev)")
endif()

# Debian's libtorch-dev ships a TorchConfig; a pip PyTorch (CUDA box) is found through
# CMAKE_PREFIX_PATH=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)').
find_package(Torch REQUIRED)
# PyTorch 2.13 and later headers stop with "#error C++20 or later compatible compiler is
# required to use ATen" below C++20; older ones (Debian's 1.13, the GPU machine's 2.11) take 17.
if(Torch_VERSION VERSION_GREATER_EQUAL 2.13 AND CMAKE_CXX_STANDARD LESS 20)
  message(STATUS "libtorch ${Torch_VERSION} needs C++20: building as C++20")
  set(CMAKE_CXX_STANDARD 20)
endif()

set(GAFX_QT_COMPONENTS Core)
if(GAFX_BUILD_TESTS)
  list(APPEND GAFX_QT_COMPONENTS Test)
endif()
if(GAFX_BUILD_GUI)
  list(APPEND GAFX_QT_COMPONENTS Widgets Sql Concurrent)
  find_package(Qt6 REQUIRED COMPONENTS ${GAFX_QT_COMPONENTS})
  # Listening to tracks (app/workbench/audio_player.h): optional, the workbench says what is
  # missing when it is not there. scripts/setup.sh installs qt6-multimedia-dev.
  find_package(Qt6 QUIET COMPONENTS Multimedia)
  if(NOT Qt6Multimedia_FOUND)
    message(STATUS "Qt Multimedia not found: the workbench builds without audio playback")
  endif()
  find_library(QCUSTOMPLOT_LIBRARY NAMES QCustomPlotQt6 REQUIRED)
  find_path(QCUSTOMPLOT_INCLUDE_DIR qcustomplot.h REQUIRED)
else()
  find_package(Qt6 QUIET COMPONENTS ${GAFX_QT_COMPONENTS})
endif()
set(GAFX_HAVE_QT_TEST ${Qt6Test_FOUND})
if(Qt6Core_FOUND)
  set(GAFX_QT_VERSION "${Qt6Core_VERSION}")
else()
  set(GAFX_QT_VERSION "")
endif()

# libtorch's headers use `slots`; Qt code must use Q_SLOTS/Q_SIGNALS/Q_EMIT.
set(GAFX_QT_DEFINITIONS QT_NO_KEYWORDS)
