# pod_embed(TARGET_VAR OUTPUT <file.c> SYMBOL <name> [BASE <dir>] FILES <f>...)
# Generates a C file holding each input file as a byte array, so resources ship inside the
# binary. The table is `const struct pod_embedded_file <name>[]`, terminated by a NULL name;
# each name is the file's name, or its path relative to BASE when BASE is given.
function(pod_embed out_var)
        cmake_parse_arguments(E "" "OUTPUT;SYMBOL;BASE" "FILES" ${ARGN})
        add_custom_command(
                OUTPUT ${E_OUTPUT}
                COMMAND ${CMAKE_COMMAND} -DOUTPUT=${E_OUTPUT} -DSYMBOL=${E_SYMBOL} -DBASE=${E_BASE}
                        "-DFILES=${E_FILES}" -P ${PROJECT_SOURCE_DIR}/cmake/embed-run.cmake
                DEPENDS ${E_FILES} ${PROJECT_SOURCE_DIR}/cmake/embed-run.cmake
                COMMENT "Embedding ${E_SYMBOL}"
                VERBATIM)
        set(${out_var} ${E_OUTPUT} PARENT_SCOPE)
endfunction()
