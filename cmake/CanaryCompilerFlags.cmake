# Warnings and sanitizers, applied to targets with canary_target_flags().
set(CANARY_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wconversion
	-Wno-sign-conversion -Wstrict-prototypes -Wmissing-prototypes)
set(CANARY_CXX_WARNINGS -Wall -Wextra -Wpedantic -Wshadow)
if(CANARY_WERROR)
	list(APPEND CANARY_WARNINGS -Werror)
	list(APPEND CANARY_CXX_WARNINGS -Werror)
endif()

if(CANARY_SANITIZE)
	add_compile_options(-fsanitize=${CANARY_SANITIZE} -fno-omit-frame-pointer
		-fno-sanitize-recover=all)
	add_link_options(-fsanitize=${CANARY_SANITIZE})
endif()

function(canary_target_flags target)
	target_compile_options(${target} PRIVATE
		$<$<COMPILE_LANGUAGE:C>:${CANARY_WARNINGS}>
		$<$<COMPILE_LANGUAGE:CXX>:${CANARY_CXX_WARNINGS}>)
endfunction()
