import { spawnSync } from "child_process";
import { ConfigError } from "../../components/model/errors";
import { normalizeRegistries } from "../../components/model/normalize";
import { planNode, planParts } from "../../components/node/plan";
import { buildNodeScript, MARKER_TEMPLATES, SCRIPT_FORMAT } from "../../components/node/script";
import { SUMMARY_PREFIX } from "../../components/node/summary";
import { beginMarker, endMarker } from "../../components/render/managedBlock";
import { thrown } from "../helpers/thrown";

const plan = (credentials = true) =>
  planNode(
    normalizeRegistries({
      "registry.example:5443": {
        ...(credentials ? { auth: { username: "u", password: "hunter2" } } : {}),
      },
    }),
    { node: "n1", owner: "team-a", profiles: [{ kind: "containerd", credentials: "cri" }] },
  );

describe("buildNodeScript header", () => {
  test("constants shared with the TypeScript side come from it (format 2, summary prefix, block markers)", () => {
    const s = buildNodeScript(plan());
    expect(SCRIPT_FORMAT).toBe(2);
    expect(s).toContain(`\nP_FORMAT=2\n`);
    expect(s).toContain(`\nP_SUMMARY_PREFIX='${SUMMARY_PREFIX}'\n`);
    expect(s).toContain(`\nP_MARK_BEGIN='${MARKER_TEMPLATES.begin}'\n`);
    expect(s).toContain(`\nP_MARK_END='${MARKER_TEMPLATES.end}'\n`);
    for (const id of ["team-a", "x.y_z-1"]) {
      expect(MARKER_TEMPLATES.begin.replace("@ID@", id)).toBe(beginMarker(id));
      expect(MARKER_TEMPLATES.end.replace("@ID@", id)).toBe(endMarker(id));
    }
  });

  test("a health check of a service is emitted inside p_services", () => {
    const p = plan();
    const withHealth = {
      ...p,
      services: p.services.map((s) => ({
        ...s,
        health: {
          kind: "containerd-cri" as const,
          argv: ["ctr", "--address", "/run/containerd/containerd.sock"],
        },
      })),
    };
    expect(buildNodeScript(withHealth)).toContain(
      "p_service 'containerd' restart 'systemctl' 'restart' 'containerd'\n  p_health 'containerd' 'containerd-cri' 'ctr' '--address' '/run/containerd/containerd.sock'\n",
    );
    const bad = {
      ...p,
      services: p.services.map((s) => ({
        ...s,
        health: { kind: "containerd-cri" as const, argv: ["ctr; rm", "--address", "/run/containerd.sock"] },
      })),
    };
    const e = thrown(() => buildNodeScript(bad));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toContain('services["containerd"].health.argv[0]');
  });

  test("a part names its own state directory; a bad one is refused", () => {
    const [files, services] = planParts(plan());
    expect(buildNodeScript(services)).toContain("\nP_PART='services'\n");
    expect(buildNodeScript(files)).toContain("\nP_PART='files'\n");
    const header = (t: string) => t.slice(0, t.indexOf("\np_services()"));
    expect(header(buildNodeScript(plan()))).not.toContain("P_PART=");
    const bad = { ...services, part: "Re-Start" } as unknown as typeof services;
    expect(thrown(() => buildNodeScript(bad)).message).toContain("part:");
  });

  test("a files part of whole files carries no editing engine; a services part carries what it needs", () => {
    const [files, services] = planParts(plan());
    expect(files.entries.every((e) => e.kind === "file")).toBe(true);
    const f = buildNodeScript(files);
    for (const name of ["P_AWK_STAGE", "P_AWK_PLAN"]) expect(f).toMatch(new RegExp(`\\n${name}='`));
    for (const name of ["P_AWK_SPLICE", "P_AWK_CONFIG_PATH", "P_AWK_JSON", "P_AWK_MERGED"])
      expect(f).not.toMatch(new RegExp(`\\n${name}=`));
    // Nor the library's functions it can never run; the services part carries them.
    for (const fn of ["p_run_service", "p_healthy", "p_check", "p_check_merged", "p_block", "p_config_path"])
      expect(f).not.toContain(`\n${fn}() {`);
    expect(f).toContain("\np_commit() {");
    const s = buildNodeScript(services);
    for (const fn of ["p_run_service", "p_healthy", "p_check", "p_check_merged", "p_block", "p_config_path"])
      expect(s).toContain(`\n${fn}() {`);
    // Both parse.
    for (const text of [f, s]) expect(spawnSync("sh", ["-n"], { input: text }).status).toBe(0);
    for (const name of [
      "P_AWK_SPLICE",
      "P_AWK_CONFIG_PATH",
      "P_AWK_JSON",
      "P_AWK_STAGE",
      "P_AWK_PLAN",
      "P_AWK_MERGED",
    ])
      expect(s).toMatch(new RegExp(`\\n${name}='`));
  });

  test("content with a NUL byte cannot travel (the node decodes with awk)", () => {
    const p = plan();
    const nul = {
      ...p,
      entries: p.entries.map((e) => (e.kind === "config-path" ? { ...e, body: "a\u0000b" } : e)),
    };
    expect(thrown(() => buildNodeScript(nul)).message).toContain("must not contain a NUL byte");
  });

  test("the library carries one inert crash point and no comment lines; the awk programs travel as plain strings", () => {
    const s = buildNodeScript(plan());
    expect(s.split("\np_crash_point() { :; }\n")).toHaveLength(2);
    expect(s.match(/p_crash_point\(\)/g)).toHaveLength(1);
    const library = s.slice(s.indexOf("\nP_AWK_SPLICE="));
    expect(library.split("\n").filter((l) => /^\s*#/.test(l))).toEqual([]);
    for (const name of ["P_AWK_SPLICE", "P_AWK_CONFIG_PATH", "P_AWK_JSON", "P_AWK_STAGE", "P_AWK_PLAN"]) {
      expect(s).toMatch(new RegExp(`\\n${name}='`));
    }
    expect(s).not.toContain("$(cat <<");
  });
});

describe("planNode: the config-path entry always carries its block id (issue 8 item 14)", () => {
  test("with credentials: the block; without: an empty block, so that the node strips ours", () => {
    const withBlock = plan(true).entries.find((e) => e.kind === "config-path")!;
    const without = plan(false).entries.find((e) => e.kind === "config-path")!;
    expect(withBlock.blockId).toBe("team-a");
    expect(without.blockId).toBe("team-a");
    expect(without.kind === "config-path" && without.body).toBe("");
    expect(withBlock.kind === "config-path" && withBlock.body.startsWith("[plugins.")).toBe(true);
    // Both travel with the block id: the node strips a block of ours when the body is empty.
    for (const p of [plan(true), plan(false)])
      expect(buildNodeScript(p)).toMatch(
        /p_stage '\d+' 'config-path' '\/etc\/containerd\/config.toml' '600|644' '[^']*' '[^']*' 'team-a'/,
      );
  });
});
