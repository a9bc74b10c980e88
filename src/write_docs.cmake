# Writes the man page and the shell completions with the built binary (`labcount manpage`, `labcount
# completion SHELL`), so they come from the same definitions as --help. Run by src/CMakeLists.txt:
#   cmake -DLABCOUNT=path/to/labcount -DOUT=dir -P write_docs.cmake
foreach(doc "labcount.1;manpage" "labcount.bash;completion;bash" "_labcount;completion;zsh"
            "labcount.fish;completion;fish")
  list(POP_FRONT doc file)
  execute_process(COMMAND ${LABCOUNT} ${doc} OUTPUT_FILE ${OUT}/${file} RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "labcount ${doc} failed (${status})")
  endif()
endforeach()
