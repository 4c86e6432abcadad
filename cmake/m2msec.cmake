# Common compile options and the helpers that declare a module (one directory = one target).

add_library(m2msec_options INTERFACE)
target_compile_options(m2msec_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wimplicit-fallthrough -Werror)
if(M2MSEC_SANITIZE)
  target_compile_options(m2msec_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(m2msec_options INTERFACE -fsanitize=address,undefined)
endif()

# m2msec_module(<name> DEPS <targets...>): a library from src/<name>/*.cpp with public headers in
# src/<name>/include/m2msec/<name>/. The target is m2msec_<name>, aliased m2msec::<name>.
function(m2msec_module name)
  cmake_parse_arguments(ARG "" "" "DEPS;PRIVATE_DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  add_library(m2msec_${name} STATIC ${sources})
  add_library(m2msec::${name} ALIAS m2msec_${name})
  target_include_directories(m2msec_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(m2msec_${name} PUBLIC ${ARG_DEPS} PRIVATE m2msec_options ${ARG_PRIVATE_DEPS})
endfunction()

# m2msec_gtest(<name> SOURCES <files...> DEPS <targets...> [LABELS <labels...>] [FIXTURE <fixture>] [PREFIX <prefix>])
# FIXTURE: the ctest fixture the program requires (default testpki).
# PREFIX: prepended to its ctest name (e.g. "store." so that `ctest -R store` selects it).
function(m2msec_gtest name)
  cmake_parse_arguments(ARG "" "FIXTURE;PREFIX" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_FIXTURE)
    set(ARG_FIXTURE testpki)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} m2msec_test_support GTest::gtest GTest::gtest_main m2msec_options)
  # One ctest entry per program: its cases run in one process (gtest prints each case and why it failed). A
  # process per case cost one ASan start-up (about 0.3 s) per case, most of the unit-test time in CI. The test
  # PKI they share is generated once per run by the testpki.generate fixture (tests/CMakeLists.txt).
  add_test(NAME ${ARG_PREFIX}${name} COMMAND ${name} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(${ARG_PREFIX}${name} PROPERTIES LABELS "${ARG_LABELS}" FIXTURES_REQUIRED ${ARG_FIXTURE}
                       ENVIRONMENT "M2MSEC_TEST_PKI=${PROJECT_BINARY_DIR}/testpki" TIMEOUT 900)
endfunction()
