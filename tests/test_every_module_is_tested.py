"""tests/ mirrors kit/: every module has a test file of its own, or the tests that cover it are named here.

What counts as a module: every ``.py`` file under ``kit/``, except an ``__init__.py`` that
holds only a docstring, imports (the package's names, re-exported) and assignments to dunder
names (``__all__``, ``__version__``): such a file has no behaviour to test. A package whose
``__init__.py`` holds code is the module named by the package (``kit/jsonpos/__init__.py`` is
``jsonpos``). Modules are named by their path under ``kit/``, without ``.py``.

Its own test file: the test sits in the mirrored folder of the module or of one of its
packages, named ``test_`` and the rest of the module's path joined by ``_``. For
``kit/sandbox/push/lock.py`` that is ``tests/sandbox/push/test_lock.py``,
``tests/sandbox/test_push_lock.py`` or ``tests/test_sandbox_push_lock.py``; a private module's
leading ``_`` is dropped (``kit/commands/_framing.py``: ``tests/commands/test_framing.py``).
These are the layouts tests/ already uses (``tests/sandbox/test_push_background.py``,
``tests/test_verify_code.py``, ``tests/test_proc.py``), and no other name counts.

Otherwise the module is in COVERED_ELSEWHERE with a reason that names the tests covering it,
as ``tests/<path>.py`` or ``tests/<path>.py::test_function``, and says how they cover it; or,
where no test exercises it yet, in UNTESTED with what a test would need. Every named file and
function must exist, and an entry whose module is gone or has its own test file fails.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
KIT = REPO / "kit"
TESTS = REPO / "tests"

# module -> the tests that cover it, and how.
COVERED_ELSEWHERE: dict[str, str] = {
    # -- the entry points -------------------------------------------------------------------
    "__main__": "`python -m kit` run as a real process: tests/test_convert_cli.py::test_python_dash_m_kit_runs_a_real_process, and every dotkit call of tests/e2e/conftest.py",
    "launch": "the entry `python -m kit` calls, handing verify to a running server: tests/verifyd/test_server.py::test_served_runs_print_what_runs_here_print, tests/test_convert_cli.py::test_python_dash_m_kit_runs_a_real_process",
    # -- the bottom layer -------------------------------------------------------------------
    "console": "the CLI's plain output, compared whole: tests/commands/test_verify_cli.py::test_rules_lists_and_explains, tests/test_convert_cli.py::test_terms_text_and_json",
    "errors": "its exit codes, through kit.cli.main: tests/test_convert_cli.py::test_usage_errors_exit_2, tests/sandbox/test_push_background.py (130 on Ctrl-C); its classes raised in tests/sandbox/test_state.py::test_a_missing_app_is_a_usage_error",
    "files": "one NamedTuple; the files convert returns are written and read back by tests/test_appfs.py::test_write_tree_is_all_or_nothing and tests/test_convert_golden.py",
    "findings": "findings rendered and sorted in every report compared whole: tests/commands/test_verify_cli.py::test_text_output_has_a_code_frame, tests/test_convert_cli.py::test_tcp_gear_gets_a_port_and_a_finding",
    "paths": "$DOTKIT_HOME and the cache folder, set by tests/conftest.py and used by tests/verify/test_memo.py::test_memos_unused_for_long_are_removed and tests/sandbox/test_commands.py",
    "secrets": "masking: tests/test_render.py::test_secret_display, tests/test_render.py::test_masked_build_file_hides_secrets, tests/test_convert_cli.py::test_secrets_reach_the_build_file_but_never_the_terminal",
    "terms": "its table printed as text and JSON: tests/test_convert_cli.py::test_terms_text_and_json, and on the docs site: tests/docs/test_docs_site.py",
    # -- appfs ------------------------------------------------------------------------------
    "appfs/listing": "the package's tests: tests/test_appfs.py::test_gitignore_at_every_level, tests/test_appfs.py::test_symlinks_are_listed_never_followed, tests/test_appfs.py::test_gears_are_direct_subfolders_or_the_root",
    "appfs/manifest": "the record a conversion keeps in its output: tests/convert/test_reconvert.py::test_the_output_records_what_it_wrote, tests/convert/test_reconvert.py::test_a_damaged_record_counts_as_none",
    "appfs/write": "tests/test_appfs.py::test_write_tree_is_all_or_nothing; overwriting rules: tests/convert/test_reconvert.py, tests/test_convert_cli.py::test_existing_output_needs_force",
    # -- commands (each verb through kit.cli.main) ------------------------------------------
    "commands/_convert_run": "`dotkit convert` in-process: tests/test_convert_cli.py, tests/convert/test_reconvert.py, tests/test_convert_errors.py",
    "commands/_export_run": "app_files: tests/export/test_export.py; the whole `dotkit export` on real engines: tests/engine/test_engines_e2e.py::test_the_guides_sample_on_compose",
    "commands/_options": "the shared options of convert, verify, push and repro: tests/sandbox/test_commands.py, tests/commands/test_verify_cli.py, tests/repro/test_archive.py",
    "commands/_sandbox": "the chosen app and confirmations of the sandbox verbs: tests/sandbox/test_commands.py::test_destroy_never_waits_for_an_answer_without_a_terminal, tests/sandbox/test_push_command.py",
    "commands/_verify_run": "`dotkit verify` in-process: tests/commands/test_verify_cli.py; through a verify server: tests/verifyd/test_server.py::test_a_server_that_cannot_start_leaves_a_local_run",
    "commands/apps": "create, connect, disconnect, app, list, destroy: tests/sandbox/test_commands.py::test_create_connects_the_folder_like_the_real_cli, tests/sandbox/test_commands.py::test_list_connect_disconnect_and_errors",
    "commands/convert": "`dotkit convert`: tests/test_convert_cli.py (its options, output and exit codes), tests/test_convert_errors.py",
    "commands/doctor": "`dotkit doctor`: tests/sandbox/test_commands.py::test_doctor_names_the_backend, tests/sandbox/test_fidelity.py::test_doctor_prints_the_rows_that_hold_here, tests/sandbox/test_dockerbox.py::test_doctor_says_whether_the_docker_backend_is_available",
    "commands/export": "`dotkit export` on real engines: tests/engine/test_engines_e2e.py::test_the_guides_sample_on_compose, tests/engine/test_engines_e2e.py::test_a_redis_app_as_a_swarm_stack",
    "commands/inspect": "url, info, logs, dlist, dlogs: tests/sandbox/test_commands.py::test_inspecting_an_app_with_nothing_pushed, tests/sandbox/test_gateway_url.py; on deployed apps: tests/e2e/test_fidelity.py (`open` has no test)",
    "commands/manage": "revisions: tests/sandbox/test_commands.py; deploy: tests/sandbox/test_push_command.py; env, scale, restart on real containers: tests/e2e/test_platform.py, tests/e2e/test_fidelity.py",
    "commands/push": "`dotkit push` in-process with fakes at the seams: tests/sandbox/test_push_command.py; for real: tests/e2e/test_push.py::test_guide_sample_pushed_and_answering",
    "commands/repro": "`dotkit repro` refusals: tests/repro/test_archive.py::test_repro_refuses_a_hostile_archive_with_exit_2_and_changes_nothing; a whole reproduction: tests/e2e/test_repro.py",
    "commands/rules": "`dotkit rules`: tests/commands/test_verify_cli.py::test_rules_lists_and_explains",
    "commands/run": "`dotkit run` in real containers: tests/e2e/test_fidelity.py::test_node_tcp_ports_and_the_container_as_on_the_platform, tests/security/test_container_boundary.py::test_run_never_hands_the_apps_environment_to_the_host (`ssh` has no test)",
    "commands/terms": "`dotkit terms`: tests/test_convert_cli.py::test_terms_text_and_json",
    "commands/verify": "`dotkit verify`: tests/commands/test_verify_cli.py (formats, selection, exit codes), tests/verify/test_bad_input.py",
    # -- convert (through convert_app and `dotkit convert`) ---------------------------------
    "convert/app": "convert_app through the CLI: tests/test_convert_cli.py, tests/test_convert_golden.py::test_guide_sample_matches_golden; properties: tests/test_properties.py",
    "convert/code": "a Gear's code analysed for the conversion: tests/convert/test_code_rules.py, tests/verify/test_bad_input.py::test_convert_takes_the_same_files_without_a_traceback",
    "convert/codecheck": "the manual steps for code: tests/convert/test_code_rules.py::test_a_torque_env_value_pointing_at_localhost, tests/convert/test_code_rules.py::test_convert_and_verify_give_a_finding_the_same_severity",
    "convert/codeports": "the port rule in a conversion: tests/convert/test_code_rules.py::test_an_env_value_the_code_listens_on_is_not_carried, tests/convert/test_code_rules.py::test_a_tcp_server_is_never_moved_to_8080_and_udp_is_refused",
    "convert/environment": "a Gear's env as the service's environment: tests/test_properties.py::test_env_values_survive_to_dotcloud_yml, tests/test_convert_errors.py::test_env_key_collision_and_invalid_names",
    "convert/gear": "one Gear to one service: tests/test_convert_golden.py::test_guide_sample_matches_golden, tests/test_convert_cli.py::test_tcp_gear_gets_a_port_and_a_finding, tests/test_properties.py",
    "convert/gears": "Gears read from disk: tests/test_convert_errors.py::test_no_gears_at_all, tests/test_convert_cli.py::test_app_folder_itself_can_be_the_gear",
    "convert/migration": "two NamedTuples: the report's rows and edits, asserted in tests/test_convert_cli.py::test_json_report_is_one_document and tests/test_convert_cli.py::test_fix_is_idempotent_and_leaves_the_source_alone",
    "convert/naming": "service names: tests/test_render.py::test_service_names, tests/test_convert_cli.py::test_colliding_service_names_are_reported",
    "convert/nodever": "the Node.js a service asks for: tests/convert/test_code_rules.py::test_node_version_comes_from_engines_node",
    "convert/render": "dotcloud.yml and supervisord.conf as text: tests/test_render.py, tests/test_properties.py::test_percent_is_doubled_for_supervisord, tests/verify/test_supervisor.py::test_rendered_files_pass",
    "convert/report": "text, JSON and diff reports compared whole: tests/test_convert_cli.py::test_json_report_is_one_document, tests/test_convert_cli.py::test_dry_run_prints_a_diff_and_writes_nothing",
    "convert/rows": "report rows collected per Gear: tests/test_convert_cli.py::test_tcp_gear_gets_a_port_and_a_finding, tests/test_convert_cli.py::test_json_report_is_one_document",
    "convert/torque": "reading .torque: tests/test_convert_errors.py::test_broken_torque_is_refused_with_its_address, tests/test_properties.py::test_numbers_are_written_as_the_text_of_the_torque",
    # -- engine (Docker) --------------------------------------------------------------------
    "engine/daemon": "the private Docker daemon every engine test starts: tests/engine/conftest.py, tests/engine/test_engines_e2e.py, tests/e2e/test_docker_backend.py",
    "engine/docker": "the docker command against a real engine: tests/engine/test_engines_e2e.py, tests/e2e/test_docker_backend.py::test_containers_run_on_the_engine_as_the_platform_would",
    "engine/image": "the platform image built for real by the engine fixtures (testing/engine_fixtures.py): tests/engine/test_engines_e2e.py, tests/e2e/test_docker_backend.py",
    "engine/mounts": "tests/engine/test_units.py::test_mounts_under_deepest_first",
    "engine/rootfs": "tests/engine/test_units.py::test_apt_mirror; debootstrap for real when the image is built: tests/engine/test_engines_e2e.py",
    "engine/start": "tests/engine/test_units.py::test_environment_fills_secrets_and_drops_the_engines_own, tests/engine/test_units.py::test_router_config_balances_and_sets_the_gateways_headers; inside real containers: tests/engine/test_engines_e2e.py",
    # -- export -----------------------------------------------------------------------------
    "export/app": "the export package's tests: tests/export/test_export.py::test_golden, tests/export/test_export.py::test_generated_passwords_are_never_in_the_files",
    "export/common": "what compose and swarm share, compared with the golden files: tests/export/test_export.py::test_golden",
    "export/compose": "compose.yaml: tests/export/test_export.py::test_golden; run on an engine: tests/engine/test_engines_e2e.py::test_the_guides_sample_on_compose",
    "export/contexts": "the build contexts: tests/export/test_export.py::test_the_build_context_lets_only_the_code_in",
    "export/environ": "tests/export/test_export.py::test_the_environment_has_the_platforms_keys, tests/export/test_export.py::test_names_every_engine_accepts",
    "export/kubernetes": "the manifests against the API schemas: tests/export/test_export.py::test_kubernetes_manifests_pass_the_schemas, tests/export/test_export.py::test_a_broken_manifest_fails_the_schemas",
    "export/plan": "tests/export/test_export.py::test_data_services_it_cannot_run_are_reported, tests/export/test_export.py::test_a_router_service_in_the_app_keeps_its_name",
    "export/report": "the export's report: tests/export/test_export.py::test_tcp_ports_are_bound_and_published, tests/export/test_export.py::test_data_services_it_cannot_run_are_reported",
    "export/swarm": "stack.yml: tests/export/test_export.py::test_golden; deployed as a stack: tests/engine/test_engines_e2e.py::test_a_redis_app_as_a_swarm_stack",
    # -- js ---------------------------------------------------------------------------------
    "js/analysis": "tests/test_jsanalysis.py (named before the package's folders), tests/js/test_ports_followed.py",
    "js/connections": "loopback connections found: tests/test_verify_code.py::test_loopback_connections, tests/test_verify_code.py::test_not_loopback_connections",
    "js/features": "the syntax and APIs a file needs: tests/js/test_node_versions.py::test_syntax_each_construct, tests/js/test_node_versions.py::test_apis_are_reported_unless_the_file_brings_its_own",
    "js/fix": "tests/test_jsfix.py (named before the package's folders)",
    "js/link": "files node loads and ports read across modules: tests/js/test_ports_followed.py::test_require_resolution_and_loaded_files, tests/js/test_ports_followed.py::test_a_port_read_from_a_config_module_is_followed_there",
    "js/model": "the analysis's value types (NamedTuples), asserted as values by tests/test_jsanalysis.py and kept through the cache by tests/test_verify_code.py::test_parallel_run_gives_the_same_findings",
    "js/modules": "requires and exports: tests/js/test_ports_followed.py::test_module_exports_forms, tests/js/test_ports_followed.py::test_require_resolution_and_loaded_files",
    "js/packages": "package.json facts: tests/js/test_node_versions.py::test_package_json_facts, tests/verify/test_real_app_rules.py::test_engines_and_unpinned_dependencies",
    "js/pathexpr": "path expressions: tests/test_verify_code.py::test_paths_under_the_data_folder, tests/test_verify_code.py::test_paths_elsewhere",
    "js/portexpr": "what decides a listen's port: tests/test_jsanalysis.py::test_port_argument_forms, tests/js/test_ports_followed.py::test_env_default_through_declarations",
    "js/scope": "bindings: tests/test_jsanalysis.py::test_reassigned_or_redeclared_port_is_computed, tests/js/test_ports_followed.py::test_express_generator_3_app_set_then_get",
    "js/semver": "tests/js/test_node_versions.py::test_semver_edges, tests/js/test_node_versions.py::test_engines_ranges_against_the_platform",
    "js/syntax": "the parser and its helpers under every analysis: tests/test_jsanalysis.py::test_line_column, tests/test_jsanalysis.py::test_never_raises_on_arbitrary_bytes",
    "js/writes": "files the code writes: tests/verify/test_real_app_rules.py::test_writes_into_the_code_tree, tests/verify/test_real_app_rules.py::test_uploads_under_data_are_the_data_rule_and_tmp_is_fine",
    # -- jsonpos ----------------------------------------------------------------------------
    "jsonpos/lexer": "the package's tests: tests/test_jsonpos.py::test_comments_and_trailing_commas_are_counted, tests/test_jsonpos.py::test_agrees_with_the_json_module",
    "jsonpos/nodes": "the package's tests: tests/test_jsonpos.py::test_values_and_positions, tests/test_jsonpos.py::test_problems_have_addresses",
    # -- platform ---------------------------------------------------------------------------
    "platform/envkeys": "tests/platform/test_platform_model.py::test_urls_of_data_services_use_the_platform_schemes, tests/sandbox/test_datastores.py::test_env_keys_for_sql_stores",
    "platform/facts": "constants only; the node versions used by tests/js/test_node_versions.py::test_engines_ranges_against_the_platform and tests/platform/test_platform_model.py::test_without_config_the_platform_default_node_runs",
    "platform/judge": "the code rules judged once: tests/test_verify_code.py::test_rule_examples_fail_and_pass, tests/convert/test_code_rules.py::test_convert_and_verify_give_a_finding_the_same_severity",
    "platform/model": "tests/platform/test_platform_model.py (named after the package too)",
    "platform/names": "tests/platform/test_platform_model.py::test_service_names_are_sanitised, tests/platform/test_platform_model.py::test_env_names",
    "platform/ports": "the port rule and its fixes: tests/test_jsfix.py, tests/test_verify_code.py::test_http_literal_port, tests/test_verify_code.py::test_tcp_literal_port",
    # -- repro ------------------------------------------------------------------------------
    "repro/archive/entries": "the package's tests: tests/repro/test_archive.py (each refused entry, the budget, links)",
    "repro/archive/tars": "the package's tests: tests/repro/test_archive.py::test_a_good_tar_gz_with_a_hard_link_inside_is_unpacked, tests/repro/test_archive.py::test_tar_device_files_are_refused",
    "repro/archive/zips": "the package's tests: tests/repro/test_archive.py::test_a_good_zip_is_unpacked_with_modes_and_inner_links, tests/repro/test_archive.py::test_a_zip_bomb_is_refused_from_its_headers",
    "repro/collect": "what the sandbox kept, read after a real push: tests/e2e/test_repro.py; planted logs: tests/security/test_control_plane.py::test_logs_planted_by_the_app_are_not_followed_or_waited_on",
    "repro/model": "NamedTuples: a Probe judged by tests/repro/test_verdict.py; a whole Repro rendered into the bundle by tests/e2e/test_repro.py",
    "repro/probes": "real services asked over HTTP and TCP: tests/e2e/test_repro.py::test_customer_sample_gets_the_verdict_and_both_findings_and_no_secret_leaks",
    "repro/run": "refusals: tests/repro/test_archive.py::test_repro_refuses_a_folder_without_an_app; whole reproductions: tests/e2e/test_repro.py::test_two_tickets_side_by_side_then_replaced_and_destroyed",
    "repro/source": "tests/repro/test_archive.py::test_env_file_errors_are_listed_by_line_without_their_values, tests/repro/test_archive.py::test_ticket_ids_follow_the_app_name_rule",
    # -- sandbox (carried over from tests/sandbox/test_every_module_is_tested.py) -------------
    "sandbox/cinit": "the first process inside every real container: tests/e2e/test_push.py::test_containers_are_isolated, tests/security/test_container_boundary.py",
    "sandbox/client": "talks to a real platform process: tests/e2e/test_push.py; a damaged app's commands: tests/sandbox/test_commands.py::test_a_damaged_app_stops_only_its_own_commands",
    "sandbox/dataservices": "tests/sandbox/test_datastores.py::test_data_service_problems; real redis: tests/e2e/test_platform.py::test_redis_keeps_its_data_through_ten_pushes",
    "sandbox/dbready": "greetings parsed: tests/sandbox/test_datastores.py::test_mysql_greetings, tests/sandbox/test_datastores.py::test_postgresql_answers; real servers: tests/sandbox/test_datastores_real.py::test_wait_ready_sees_a_server_still_starting",
    "sandbox/destroy": "the verbs: tests/sandbox/test_commands.py::test_destroy_never_waits_for_an_answer_without_a_terminal; nothing left running: tests/e2e/test_repro.py::test_customer_sample_gets_the_verdict_and_both_findings_and_no_secret_leaks",
    "sandbox/engine": "the bubblewrap backend in every tests/e2e test; DOTKIT_BACKEND=process: tests/e2e/test_push.py::test_process_backend_runs_a_single_service",
    "sandbox/fields": "each damaged-file message: tests/sandbox/test_state.py::test_a_damaged_app_record_names_its_file_and_the_way_out, tests/sandbox/test_state.py::test_a_damaged_deployment_record_is_named",
    "sandbox/folders": "tests/sandbox/test_state.py::test_a_connected_folder_is_the_real_cli_s_file, tests/sandbox/test_commands.py::test_a_damaged_folder_config_can_still_be_disconnected",
    "sandbox/owner": "the Platform the platform process holds: tests/sandbox/test_daemon.py::test_a_damaged_runtime_costs_only_its_own_app, and every push in tests/e2e/test_push.py",
    "sandbox/pids": "signals real containers: tests/e2e/test_platform.py::test_faults_are_recovered",
    "sandbox/records": "tests/sandbox/test_state.py::test_files_of_format_1_are_read_and_written_back_as_format_2, tests/sandbox/test_state.py::test_a_deployment_keeps_its_journal",
    "sandbox/relay": "real relays: tests/e2e/test_push.py::test_containers_are_isolated",
    "sandbox/router": "tests/sandbox/test_daemon.py::test_a_damaged_runtime_costs_only_its_own_app; zero failed requests: tests/e2e/test_platform.py::test_zero_failed_requests_while_pushing_a_stateless_service",
    "sandbox/runtime": "tests/sandbox/test_state.py::test_the_runtime_of_an_app_holds_only_its_own_containers, tests/sandbox/test_daemon.py",
    "sandbox/seams": "its fakes (testing/sandbox.py) drive tests/sandbox/test_push_orchestration.py; the real ones every push in tests/e2e/test_push.py",
    "sandbox/gateway/backend": "a real gateway and instances on loopback: tests/sandbox/test_gateway_proxy.py::test_pipelined_requests_are_answered_in_order, tests/sandbox/test_gateway_proxy.py::test_an_upgrade_becomes_a_byte_pipe",
    "sandbox/gateway/client": "tests/sandbox/test_gateway_proxy.py::test_requests_that_cannot_be_forwarded_safely_are_refused, tests/sandbox/test_gateway_proxy.py::test_a_client_that_stops_sending_still_gets_every_answer",
    "sandbox/gateway/exchange": "tests/sandbox/test_gateway_proxy.py::test_requests_arrive_with_the_platforms_headers_and_their_bodies, tests/sandbox/test_gateway_proxy.py::test_an_upgrade_becomes_a_byte_pipe",
    "sandbox/gateway/headers": "tests/sandbox/test_gateway_units.py::test_the_platforms_headers_are_added, tests/sandbox/test_gateway_units.py::test_a_clients_forwarding_headers_cannot_pose_as_the_gateway",
    "sandbox/gateway/health": "tests/sandbox/test_gateway_units.py::test_an_instance_is_out_while_its_check_fails_and_back_when_it_passes, tests/sandbox/test_gateway_proxy.py::test_an_instance_answering_5xx_leaves_rotation_after_its_health_check",
    "sandbox/gateway/names": "tests/sandbox/test_gateway_units.py::test_each_service_has_a_dotted_name_and_www_also_the_apps_own, tests/sandbox/test_gateway_units.py::test_host_headers_are_reduced_to_a_name",
    "sandbox/gateway/pages": "tests/sandbox/test_gateway_units.py::test_pages_are_complete_responses_that_close, tests/sandbox/test_gateway_units.py::test_a_page_escapes_what_the_client_sent",
    "sandbox/gateway/route": "tests/sandbox/test_gateway_proxy.py::test_round_robin_per_request, tests/sandbox/test_gateway_proxy.py::test_a_kept_alive_client_follows_the_switch_and_old_connections_close",
    "sandbox/gateway/server": "tests/sandbox/test_gateway_proxy.py::test_the_shared_gateway_routes_by_host_name, tests/sandbox/test_gateway_url.py::test_each_service_by_name_over_http_and_https",
    "sandbox/gateway/trust": "tests/sandbox/test_gateway_url.py::test_url_trust_names_the_ca_and_the_commands",
    "sandbox/isolation/cgroups": "tests/sandbox/test_isolation_units.py::test_a_group_is_made_limited_read_and_removed, tests/sandbox/test_isolation_units.py::test_groups_left_by_killed_launchers_are_swept",
    "sandbox/isolation/enter": "tests/sandbox/test_isolation_units.py::test_giving_a_home_never_follows_a_planted_link; the launcher starting every real container: tests/security/test_container_boundary.py",
    "sandbox/isolation/limits": "tests/sandbox/test_isolation_units.py::test_memory_sizes_round_up_to_32m_like_the_cli, tests/sandbox/test_isolation_units.py::test_bad_memory_sizes_are_refused",
    "sandbox/isolation/nsexec": "tests/sandbox/test_isolation_units.py::test_run_enters_every_namespace_as_dotcloud_and_reads_the_env_inside; `dotkit run` for real: tests/e2e/test_fidelity.py",
    "sandbox/isolation/plan": "tests/sandbox/test_isolation_units.py::test_host_users_are_unused_uids_one_per_sandbox, tests/sandbox/test_dockerbox.py::test_isolated_argv_starts_the_docker_launcher",
    "sandbox/isolation/rootfs": "tests/sandbox/test_isolation_units.py::test_the_root_is_read_only_system_folders_and_the_boxs_own, tests/sandbox/test_isolation_units.py::test_a_service_box_is_a_user_namespace_without_capabilities",
    "sandbox/isolation/seccomp": "tests/sandbox/test_isolation_units.py::test_the_filter_refuses_escapes_and_kills_on_a_foreign_architecture; in real containers: tests/security/test_container_boundary.py::test_mount_namespace_ptrace_and_modules_are_refused",
    "sandbox/isolation/watch": "out-of-memory kills reported from real containers: tests/security/test_container_boundary.py::test_memory_hog_is_killed_with_the_limit_named, tests/e2e/test_fidelity.py::test_data_moves_after_postinstall_and_the_memory_limit_holds",
    "nodejs/gypi": "the settings files added to a build: tests/nodejs/test_fetch.py::test_fetch_verify_unpack_and_cache; addons compiled with them: tests/nodejs/test_real.py",
    "sandbox/push/build": "a failing hook: tests/sandbox/test_push_orchestration.py::test_a_failure_at_any_step_leaves_the_old_revision_serving; each service's node: tests/sandbox/test_push_node.py",
    "sandbox/push/context": "the journal each crash is recovered from: tests/sandbox/test_push_orchestration.py::test_a_crash_at_every_write_of_the_journal_is_recovered",
    "sandbox/push/datamove": "moved, reported, put back on failure and crash: tests/sandbox/test_push_orchestration.py::test_data_moves_to_the_new_container_and_the_downtime_is_reported",
    "sandbox/push/home": "written once: tests/sandbox/test_push_steps.py::test_a_new_home_is_written_whole_beside_its_place_then_renamed; contents: tests/sandbox/test_push_orchestration.py",
    "sandbox/push/launch": "start and readiness failures: tests/sandbox/test_push_orchestration.py::test_a_failure_at_any_step_leaves_the_old_revision_serving",
    "sandbox/push/lock": "one push at a time, and a killed one cleaned up: tests/e2e/test_push.py::test_a_push_killed_half_way_is_cleaned_up",
    "sandbox/push/log": "the log's lines, in order: tests/sandbox/test_push_orchestration.py::test_a_push_deploys_and_reads_like_the_platform_log",
    "sandbox/push/orchestrate": "tests/sandbox/test_push_orchestration.py (every step, failure and crash)",
    "sandbox/push/plan": "build file errors, ports and passwords: tests/sandbox/test_push_orchestration.py::test_a_failure_at_any_step_leaves_the_old_revision_serving",
    "sandbox/push/postinstall": "a failing postinstall: tests/sandbox/test_push_orchestration.py::test_a_failure_at_any_step_leaves_the_old_revision_serving; for real: tests/e2e/test_push.py::test_postinstall_and_the_build_time_limit",
    "sandbox/push/recover": "a crash after each step and each journal write: tests/sandbox/test_push_orchestration.py::test_a_crash_after_any_step_is_recovered, tests/sandbox/test_push_orchestration.py::test_ctrl_c_undoes_the_push",
    "sandbox/push/stores": "real redis kept across pushes: tests/e2e/test_platform.py::test_redis_keeps_its_data_through_ten_pushes",
    "sandbox/push/switch": "routes: tests/sandbox/test_push_steps.py::test_routes_of_a_scaled_service_with_a_tcp_port; switch and retire: tests/sandbox/test_push_orchestration.py",
    "sandbox/push/upload": "tests/sandbox/test_push_steps.py::test_an_upload_leaves_out_what_the_platform_s_uploader_did, tests/sandbox/test_push_orchestration.py::test_a_stored_revision_is_deployed_again",
    # -- verify -----------------------------------------------------------------------------
    "verify/buildfile/collect": "findings placed at their key: tests/verify/test_buildfile.py::test_failing_examples, tests/verify/test_buildfile.py::test_guide_example_is_reported_at_its_mis_indented_line",
    "verify/buildfile/rules": "rule data; every rule's words and examples checked: tests/verify/test_buildfile.py::test_every_rule_has_words_and_examples",
    "verify/buildfile/schema": "tests/verify/test_buildfile.py::test_schema_is_valid_json_schema_data, tests/verify/test_buildfile.py::test_did_you_mean",
    "verify/catalog": "tests/commands/test_verify_cli.py::test_select_and_ignore, tests/commands/test_verify_cli.py::test_design_slugs_are_all_in_the_catalogue",
    "verify/disk": "answers about the disk, kept between runs: tests/verify/test_memo.py::test_an_answer_about_an_ignored_file_is_asked_again, tests/verifyd/test_server.py",
    "verify/fast/jscache": "tests/test_verify_code.py::test_warm_run_opens_no_unchanged_file, tests/test_verify_code.py::test_parallel_run_gives_the_same_findings",
    "verify/fast/memo": "tests/verify/test_memo.py (named without the fast/ folder)",
    "verify/fast/modcache": "module facts remembered: tests/test_verify_code.py::test_http_env_default_through_a_variable_says_what_it_holds, tests/verify/test_bad_input.py::test_verify_reports_each_bad_file_without_a_traceback",
    "verify/fast/store": "tests/test_verify_code.py::test_damaged_cache_is_rebuilt_silently, tests/test_verify_code.py::test_concurrent_runs_share_the_cache_safely, tests/test_verify_code.py::test_analyses_unused_for_long_are_dropped",
    "verify/gitstate": "real git repositories: tests/test_verify_project.py::test_uncommitted_changes, tests/test_verify_project.py::test_node_modules_committed",
    "verify/loaded": "the code node loads, held to its Node.js: tests/verify/test_real_app_rules.py::test_only_the_files_node_loads_are_held_to_the_node_version",
    "verify/model": "the Rule and Target every check shares: tests/verify/test_buildfile.py::test_every_rule_has_words_and_examples, tests/test_verify_project.py::test_rules_are_documented",
    "verify/output": "text, JSON and SARIF: tests/commands/test_verify_cli.py::test_text_output_has_a_code_frame, tests/commands/test_verify_cli.py::test_sarif_is_2_1_0_with_rules_and_regions",
    "verify/packagejson": "tests/test_verify_project.py::test_package_json_problems, tests/test_verify_project.py::test_package_json_trailing_comma",
    "verify/runner": "verify_app run whole: tests/verify/test_memo.py::test_selection_is_applied_to_remembered_results, tests/verify/test_real_app_rules.py",
    "verify/supervisor/command": "the package's tests: tests/verify/test_supervisor.py::test_command_script, tests/verify/test_supervisor.py::test_command_file_found_or_skipped",
    "verify/supervisor/conf": "the package's tests: tests/verify/test_supervisor.py::test_values_supervisor_rejects, tests/verify/test_supervisor.py::test_bad_value_is_reported_at_its_key",
    "verify/supervisor/layout": "the package's tests: tests/verify/test_supervisor.py::test_layout_follows_configparser",
    "verify/supervisor/library": "the package's tests: tests/verify/test_supervisor.py::test_values_supervisor_rejects, tests/verify/test_supervisor.py::test_host_dependent_settings_are_not_errors",
    "verify/supervisor/percent": "the package's tests: tests/verify/test_supervisor.py::test_lone_percent, tests/verify/test_supervisor.py::test_percent_in_continuation_line_and_other_sections",
    "verify/supervisor/rules": "rule data; every rule's examples run: tests/verify/test_supervisor.py::test_rule_examples_behave_as_documented",
    "verify/yamlpos": "positions kept and tabs found: tests/verify/test_buildfile.py::test_every_tab_is_reported_at_its_line, tests/verify/test_buildfile.py::test_alias_bomb_is_refused_quickly",
    # -- verifyd ----------------------------------------------------------------------------
    "commands/image": "`dotkit image build` and `--from` against the session's engine: tests/engine/test_engines_e2e.py::test_image_build_is_a_no_op_when_nothing_changed_and_takes_an_image_from",
    "verifyd/client": "a real server process asked: tests/verifyd/test_server.py::test_served_runs_print_what_runs_here_print, tests/verifyd/test_server.py::test_a_server_declines_another_environment",
    "verifyd/control": "tests/verifyd/test_server.py::test_stop_server_when_none_runs, tests/verifyd/test_server.py::test_the_server_stops_when_idle",
    "verifyd/watch": "tests/verifyd/test_server.py::test_new_removed_and_renamed_entries_change_the_folders, tests/verifyd/test_server.py::test_a_lost_event_queue_means_stat_calls_next_time",
}

# module -> why no test exercises it yet, and what one would need.
UNTESTED: dict[str, str] = {}

_NAMED = re.compile(r"(tests/[\w/]+\.py)((?:::\w+)*)")
_TEST_FILE_WORD = re.compile(r"[\w/]*\btest_\w+\.py")


def holds_code(source: str) -> bool:
    """Whether a package's ``__init__.py`` is more than a docstring, imports and dunder names."""
    for index, node in enumerate(ast.parse(source).body):
        if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if all(isinstance(t, ast.Name) and t.id.startswith("__") for t in targets):
                continue
        return True
    return False


def modules() -> list[str]:
    found = []
    for path in sorted(KIT.rglob("*.py")):
        parts = list(path.relative_to(KIT).with_suffix("").parts)
        if parts[-1] == "__init__":
            if not holds_code(path.read_text(encoding="utf-8")):
                continue
            parts.pop()
        found.append("/".join(parts))
    return found


def own_test_files(module: str) -> list[Path]:
    """The places a module's own test file may be, nearest folder first."""
    parts = module.split("/")
    parts[-1] = parts[-1].removeprefix("_")
    return [
        TESTS.joinpath(*parts[:cut], "test_" + "_".join(parts[cut:]) + ".py")
        for cut in range(len(parts) - 1, -1, -1)
    ]


def has_own_test_file(module: str) -> bool:
    return any(path.is_file() for path in own_test_files(module))


def named_tests(reason: str) -> list[tuple[str, list[str]]]:
    """The test files a reason names, each with the ``::`` chain after it (if any)."""
    return [
        (found.group(1), [part for part in found.group(2).split("::") if part])
        for found in _NAMED.finditer(reason)
    ]


def defines(path: Path, chain: list[str]) -> bool:
    """Whether the file defines ``chain`` (a function, or a class and its method)."""
    body: list[ast.stmt] = ast.parse(path.read_text(encoding="utf-8")).body
    for name in chain:
        found = [
            node
            for node in body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and node.name == name
        ]
        if not found:
            return False
        body = found[0].body
    return True


def test_every_module_has_a_test_file_or_a_named_reason() -> None:
    missing = [
        m
        for m in modules()
        if m not in COVERED_ELSEWHERE and m not in UNTESTED and not has_own_test_file(m)
    ]
    assert missing == [], (
        "give each its test file (e.g. "
        f"{own_test_files(missing[0])[0].relative_to(REPO) if missing else ''}), or name the "
        f"tests that cover it, and how, in COVERED_ELSEWHERE of {Path(__file__).name}"
    )


def test_every_entry_is_for_a_module_that_exists() -> None:
    listed = [*COVERED_ELSEWHERE, *UNTESTED]
    assert sorted(set(listed) - set(modules())) == []


def test_no_entry_for_a_module_with_its_own_test_file() -> None:
    stale = [m for m in [*COVERED_ELSEWHERE, *UNTESTED] if has_own_test_file(m)]
    assert stale == [], "these have a test file of their own now: remove their entries"


def test_a_module_is_either_covered_elsewhere_or_untested() -> None:
    assert sorted(set(COVERED_ELSEWHERE) & set(UNTESTED)) == []


@pytest.mark.parametrize("module", sorted(COVERED_ELSEWHERE))
def test_each_reason_names_tests_that_exist(module: str) -> None:
    reason = COVERED_ELSEWHERE[module]
    named = named_tests(reason)
    assert named, f"{module}: name the covering test as tests/<path>.py[::test_name]"
    loose = [w for w in _TEST_FILE_WORD.findall(reason) if not w.startswith("tests/")]
    assert loose == [], f"{module}: write the whole path from the repository's root"
    for file, chain in named:
        path = REPO / file
        assert path.is_file(), f"{module}: {file} does not exist"
        assert not chain or defines(path, chain), f"{module}: {file} has no {'::'.join(chain)}"


# -- the rule itself ------------------------------------------------------------------------


def test_the_mirrored_places_of_a_module() -> None:
    places = [p.relative_to(TESTS).as_posix() for p in own_test_files("sandbox/push/lock")]
    assert places == [
        "sandbox/push/test_lock.py",
        "sandbox/test_push_lock.py",
        "test_sandbox_push_lock.py",
    ]
    assert [p.relative_to(TESTS).as_posix() for p in own_test_files("proc")] == ["test_proc.py"]
    assert [p.relative_to(TESTS).as_posix() for p in own_test_files("commands/_framing")] == [
        "commands/test_framing.py",
        "test_commands_framing.py",
    ]


def test_an_init_with_only_names_is_no_module() -> None:
    assert not holds_code('"""Doc."""\n\nfrom a import b\n\n__all__ = ["b"]\n__version__ = "1"\n')
    assert not holds_code("")
    assert holds_code('"""Doc."""\n\nX = 1\n')
    assert holds_code("import os\n\n\ndef f() -> None:\n    pass\n")


def test_a_reason_names_files_and_functions() -> None:
    reason = "through the CLI: tests/a/test_b.py::test_c and tests/test_d.py (the rest)"
    assert named_tests(reason) == [("tests/a/test_b.py", ["test_c"]), ("tests/test_d.py", [])]
    assert named_tests("every push in tests/e2e") == []
