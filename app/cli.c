/* tokenscope-cli: headless TokenScope. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const TsCliCommand commands[] = {
  { "sweep", ts_cli_sweep, "quality versus compression: every method at every ratio, optimal ratios, plot" },
  { "entropy", ts_cli_entropy, "token redundancy: k-means entropy, effective tokens, suggested ratio" },
  { "budget", ts_cli_budget, "token budgets, KV-cache memory and FLOPs per token for an image" },
  { "vlm-tokens", ts_cli_vlm_tokens, "visual tokens of popular VLMs (LLaVA, Qwen2-VL, InternVL, GPT-4o...)" },
  { "compress", ts_cli_compress, "compress an image's tokens with a method and measure the quality" },
  { "attention", ts_cli_attention, "feature attention maps: a patch's row, the mean query, distinctiveness" },
  { "grid", ts_cli_grid, "patch grid and token count of an image" },
  { "model", ts_cli_model, "a ViT from .safetensors weights: info, features, attention maps, ToMe" },
  { "quality", ts_cli_quality, "PSNR and SSIM of two same-size images" },
  { "report", ts_cli_report, "a short token report (the embedded sample without IMAGE)" },
  { "dataset", ts_cli_dataset, "sweep every image of a folder or list: JSONL per image, shards, resume" },
  { "summarize", ts_cli_summarize, "merge dataset runs (shards) into summary.json, summary.csv" },
  { "video", ts_cli_video, "temporal redundancy of a GIF or frame folder: tokens re-sent per frame, clip CR" },
  { "settings", ts_cli_settings_cmd, "write or check a settings file (--settings FILE on every command)" },
};

static void
print_help (FILE *out)
{
  fprintf (out, "Usage: tokenscope-cli COMMAND [OPTIONS] ...\n\n"
                "Explore how vision-language models spend tokens on images.\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-12s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun 'tokenscope-cli COMMAND --help' for a command's options and examples.\n"
                "Exit status: 0 ok, 1 usage error, 2 input error, 3 partial dataset failure.\n");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");
  g_set_prgname ("tokenscope-cli");

  if (argc < 2)
    {
      print_help (stderr);
      return TS_EXIT_USAGE;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "help") == 0)
    {
      print_help (stdout);
      return TS_EXIT_OK;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("tokenscope-cli %s\n", PACKAGE_VERSION);
      return TS_EXIT_OK;
    }
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      {
        g_autoptr (GError) error = NULL;
        int sub_argc = argc - 1;
        if (!ts_cli_take_settings (&sub_argc, argv + 1, &error))
          return ts_cli_fail (error);
        return commands[i].func (sub_argc, argv + 1);
      }

  fprintf (stderr, "tokenscope-cli: unknown command '%s'\n\n", argv[1]);
  print_help (stderr);
  return TS_EXIT_USAGE;
}
