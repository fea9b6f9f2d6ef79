/* The static initialisers name every field in order: compiled with -Wall
 * -Wextra -pedantic -Werror as C99 here and as C++ (a copy made by
 * CMakeLists.txt), a missing or extra one fails the build. */
#include <canary/canary.h>

int canary_header_initializers(void);
int canary_header_initializers(void)
{
	canary_options opts = CANARY_OPTIONS_INIT;
	canary_details details = CANARY_DETAILS_INIT;
	canary_event_stats stats = CANARY_EVENT_STATS_INIT;
	canary_context ctx = CANARY_CONTEXT_INIT;

	return (int)(opts.version + details.version + stats.version +
		ctx.version);
}
