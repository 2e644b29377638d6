/* sse-fcgi - MIT License
 *
 * Telling the service manager what the worker is doing: the sd_notify(3)
 * protocol, one datagram of "KEY=value" lines to the unix socket named by
 * $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace). Without
 * the variable nothing is sent, so the worker runs the same under
 * spawn-fcgi, mod_fcgid or a shell. No libsystemd: the protocol is one
 * sendto(2), and the worker must also start on hosts without systemd.
 */
#ifndef SSE_NOTIFY_H
#define SSE_NOTIFY_H

/* Sends MSG ("READY=1", "MAINPID=123\nREADY=1", ...). Returns 1 if sent,
 * 0 if no service manager listens ($NOTIFY_SOCKET unset), -1 on an error
 * (errno set). The variable stays set: a successor started by an in-place
 * upgrade needs it too. */
int	notify_send(const char *msg);

#endif
