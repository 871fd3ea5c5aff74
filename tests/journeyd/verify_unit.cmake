# Fails when systemd-analyze reports anything about the unit (unknown directives, bad values).
execute_process(COMMAND ${ANALYZE} verify ${UNIT} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX REPLACE "[^\n]*(Failed to|not found|Cannot|D-Bus)[^\n]*bus[^\n]*\n?" "" err "${err}")
if(NOT rc EQUAL 0 OR err MATCHES "journeyd.service")
  message(FATAL_ERROR "systemd-analyze verify ${UNIT}: rc=${rc}\n${out}${err}")
endif()
