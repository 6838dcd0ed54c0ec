import { Command } from "commander";
import { expect, it } from "vitest";
import { parseYesNo, switchOption } from "../../src/commands/options.js";

it("reads switches from flags and env vars, where 0/no/false mean off", () => {
  const parse = (argv: string[], env: Record<string, string | undefined>) => {
    const saved = process.env.PWM_TEST_SWITCH;
    if (env.PWM_TEST_SWITCH === undefined) delete process.env.PWM_TEST_SWITCH;
    else process.env.PWM_TEST_SWITCH = env.PWM_TEST_SWITCH;
    try {
      const cmd = new Command().exitOverride().addOption(switchOption("--thing", "a switch", "PWM_TEST_SWITCH"));
      cmd.parse(argv, { from: "user" });
      return cmd.opts().thing as boolean | undefined;
    } finally {
      if (saved === undefined) delete process.env.PWM_TEST_SWITCH;
      else process.env.PWM_TEST_SWITCH = saved;
    }
  };
  expect(parse([], {})).toBeUndefined();
  expect(parse(["--thing"], {})).toBe(true);
  expect(parse(["--thing", "no"], {})).toBe(false);
  expect(parse([], { PWM_TEST_SWITCH: "0" })).toBe(false);
  expect(parse([], { PWM_TEST_SWITCH: "false" })).toBe(false);
  expect(parse([], { PWM_TEST_SWITCH: "1" })).toBe(true);
  expect(() => parseYesNo("maybe")).toThrow(/not yes or no/);
});
