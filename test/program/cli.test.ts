/**
 * The `registry-setup` command line (the command itself runs in the consumer tests, from the packed tarball).
 */
import { HELP, parseArgs } from "../../components/program/cli";

describe("parseArgs", () => {
  test("render with its options", () => {
    expect(parseArgs(["render", "app", "-s", "staging", "--out", "r", "--check", "--typecheck"])).toEqual({
      dir: "app",
      stack: "staging",
      out: "r",
      check: true,
      typeCheck: true,
    });
    expect(parseArgs(["render"])).toEqual({ dir: ".", check: false, typeCheck: false });
  });

  test.each([
    [["--help"]],
    [["-h"]],
    [["help"]],
    [["render", "--help"]],
    [["render", "app", "-s", "x", "-h"]],
  ])("%j asks for help", (argv) => {
    expect(parseArgs(argv)).toEqual({ help: true });
  });

  test.each([
    [[], "no command"],
    [["rendr"], 'unknown command "rendr"'],
    [["render", "--stak", "x"], "unknown option --stak"],
    [["render", "--stack"], "--stack needs a value"],
    [["render", "a", "b"], 'unexpected argument "b"'],
  ])("%j is refused: %s", (argv, error) => {
    expect(parseArgs(argv)).toEqual({ error });
  });

  test("the help names every option the parser takes", () => {
    for (const option of ["--stack", "-s", "--out", "-o", "--check", "--typecheck", "--help", "-h"])
      expect(HELP).toContain(option);
  });
});
