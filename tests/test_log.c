/* sse-fcgi - MIT License
 *
 * Logging targets: "syslog:FACILITY" names (good, bad, not syslog at
 * all), log_open() refusing an unknown facility and switching to syslog
 * and back to stderr. Whether a syslog daemon gets the lines is for the
 * integration test (it-stats.sh), where one may run.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "testlib.h"

int
main(void)
{
	test_cond("syslog: is daemon", log_facility_parse("syslog:") ==
	    LOG_DAEMON);
	test_cond("daemon", log_facility_parse("syslog:daemon") == LOG_DAEMON);
	test_cond("user", log_facility_parse("syslog:user") == LOG_USER);
	test_cond("local0", log_facility_parse("syslog:local0") == LOG_LOCAL0);
	test_cond("local7", log_facility_parse("syslog:local7") == LOG_LOCAL7);
	test_cond("case", log_facility_parse("syslog:LOCAL5") == LOG_LOCAL5);
	test_cond("local8", log_facility_parse("syslog:local8") == -1);
	test_cond("kern refused", log_facility_parse("syslog:kern") == -1);
	test_cond("trailing junk", log_facility_parse("syslog:daemon ") == -1);
	test_cond("a file", log_facility_parse("/var/log/sse.log") == -2);
	test_cond("a file named syslog", log_facility_parse("syslog") == -2);
	test_cond("prefix is case-sensitive",
	    log_facility_parse("SYSLOG:") == -2);

	errno = 0;
	test_cond("unknown facility: EINVAL",
	    log_open("syslog:nope") == -1 && errno == EINVAL);
	test_cond("to syslog", log_open("syslog:local0") == 0);
	log_set_level(LOG_LVL_DEBUG);
	log_debug("test_log: a record for syslog, if one runs");
	test_cond("reopen on syslog is a no-op", log_reopen() == 0);
	test_cond("back to stderr", log_open(NULL) == 0);
	return test_report("test_log");
}
