# The install (README "Install"): the binary, tickets.sh for projects to copy, a man page per
# command generated from the --help texts (help2man), and bash, zsh and fish completions.
# CPack makes a .deb of the same.
include(GNUInstallDirs)

install(TARGETS pod RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# tickets.sh belongs at a repository's root (DESIGN §15): installed as a copy to take.
install(PROGRAMS ${PROJECT_SOURCE_DIR}/tickets.sh DESTINATION ${CMAKE_INSTALL_DATADIR}/pod)
install(FILES ${PROJECT_SOURCE_DIR}/resources/completions/pod.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME pod)
install(FILES ${PROJECT_SOURCE_DIR}/resources/completions/_pod
        DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES ${PROJECT_SOURCE_DIR}/resources/completions/pod.fish
        DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)

find_program(HELP2MAN help2man)
if(HELP2MAN)
        set(POD_MAN_DIR ${PROJECT_BINARY_DIR}/man)
        # Every page from one source, the --help texts, so the two never disagree.
        add_custom_command(OUTPUT ${POD_MAN_DIR}/pod.1.gz
                COMMAND ${CMAKE_COMMAND} -E rm -rf ${POD_MAN_DIR}
                COMMAND ${CMAKE_COMMAND} -E env HELP2MAN=${HELP2MAN}
                        sh ${PROJECT_SOURCE_DIR}/scripts/gen-man.sh $<TARGET_FILE:pod> ${POD_MAN_DIR}
                DEPENDS pod ${PROJECT_SOURCE_DIR}/scripts/gen-man.sh
                COMMENT "Man pages from the --help texts (help2man)")
        add_custom_target(man ALL DEPENDS ${POD_MAN_DIR}/pod.1.gz)
        install(DIRECTORY ${POD_MAN_DIR}/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
                FILES_MATCHING PATTERN "*.1.gz")
else()
        message(WARNING "help2man not found: no man pages (scripts/install-deps.sh installs it)")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME pod)
set(CPACK_PACKAGE_VENDOR "pod")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "run LLM coding agents as a tree of kernel-confined pods")
set(CPACK_PACKAGE_DESCRIPTION "pod runs LLM coding agents as a tree of pods, each confined by the
 kernel (Landlock and seccomp) to a filesystem scope that is a subset of its parent's.")
set(CPACK_PACKAGE_CONTACT "pod maintainers <pod@localhost>")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
# The libraries pod links, as dpkg-shlibdeps finds them (jansson, libyaml, libseccomp and
# pcre2 are linked in statically by default, so libc is what remains).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libcurl is loaded at run time by the HTTP model handlers (never linked: start-up cost);
# tickets.sh needs flock (util-linux), awk and sed, which every Debian system has.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libcurl4t64 | libcurl4")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "git")
include(CPack)
