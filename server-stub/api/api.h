/*
 * api.h - canary-server's endpoints: the route table (routes.c) and the
 * handlers it names, one file per group:
 *
 *   sdk_api.c       GET /v1/flags, GET /v1/stream, POST /v1/events
 *   ops_api.c       GET /healthz, GET /metrics
 *   admin_api.c     /v1/admin/flags[/{key}[/stats]], /v1/admin/whoami
 *   segments_api.c  /v1/admin/segments[/{name}]
 *   team_api.c      /v1/admin/tokens[/{name}], /v1/admin/audit,
 *                   /v1/admin/webhooks[/{id}[/deliveries]]
 *   rollouts_api.c  /v1/admin/rollouts[/{flag}[/pause|resume|promote|rollback
 *                   |series]]
 *   ui_api.c        /ui/: the dashboard (its files, built in, and the
 *                   charting library's, from --ui-lib-dir)
 *
 * A handler runs once the router has checked the method, the credential
 * and the body's size, with the whole body in r->body; it answers through
 * http/reply.h and reaches the server's parts through r->srv.
 */
#ifndef CS_API_H
#define CS_API_H

#include "http/router.h"

/* The route of `url` (cs_route_fn, given to the router) on the main
 * listener: every endpoint; without the dashboard (when it has a listener
 * of its own, or is off); on the dashboard's own listener: /ui/, the
 * admin API and /healthz. */
const cs_route *cs_api_route(const char *url, const char **key,
	size_t *key_len, const char **sub);
const cs_route *cs_api_route_no_ui(const char *url, const char **key,
	size_t *key_len, const char **sub);
const cs_route *cs_ui_route(const char *url, const char **key,
	size_t *key_len, const char **sub);

enum MHD_Result cs_handle_healthz(cs_request *r, struct MHD_Connection *c);
enum MHD_Result cs_handle_metrics(cs_request *r, struct MHD_Connection *c);
enum MHD_Result cs_handle_flags(cs_request *r, struct MHD_Connection *c);
enum MHD_Result cs_handle_stream(cs_request *r, struct MHD_Connection *c);
enum MHD_Result cs_handle_events(cs_request *r, struct MHD_Connection *c);
enum MHD_Result cs_handle_admin_flags(cs_request *r, struct MHD_Connection *c);
enum MHD_Result cs_handle_admin_flag(cs_request *r, struct MHD_Connection *c);
enum MHD_Result cs_handle_admin_stats(cs_request *r, struct MHD_Connection *c);
enum MHD_Result cs_handle_admin_rollouts(cs_request *r,
	struct MHD_Connection *c);
enum MHD_Result cs_handle_admin_rollout(cs_request *r,
	struct MHD_Connection *c);
enum MHD_Result cs_handle_admin_rollout_op(cs_request *r,
	struct MHD_Connection *c);
enum MHD_Result cs_handle_admin_series(cs_request *r,
	struct MHD_Connection *c);
enum MHD_Result cs_handle_admin_segments(cs_request *r,
	struct MHD_Connection *c);
enum MHD_Result cs_handle_admin_segment(cs_request *r,
	struct MHD_Connection *c);
enum MHD_Result cs_handle_admin_whoami(cs_request *r,
	struct MHD_Connection *c);
enum MHD_Result cs_handle_admin_audit(cs_request *r, struct MHD_Connection *c);
enum MHD_Result cs_handle_admin_tokens(cs_request *r,
	struct MHD_Connection *c);
enum MHD_Result cs_handle_admin_token(cs_request *r, struct MHD_Connection *c);
enum MHD_Result cs_handle_admin_webhooks(cs_request *r,
	struct MHD_Connection *c);
enum MHD_Result cs_handle_admin_webhook(cs_request *r,
	struct MHD_Connection *c);
enum MHD_Result cs_handle_admin_deliveries(cs_request *r,
	struct MHD_Connection *c);
enum MHD_Result cs_handle_ui(cs_request *r, struct MHD_Connection *c);

#endif
