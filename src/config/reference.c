/* The settings table written out for people: the documented sample file
 * (--sample-config, tools/packaging/rootwalk.yaml.example) and the
 * README's configuration reference (--config-reference). Both are made
 * from rw_config_setting_info(), so a new setting is in both; tests check
 * the committed copies against this output. */
#include "rootwalk/config.h"

#include <string.h>

/* A value as YAML: plain when it is a plain word or number, else quoted
 * (the examples hold ':', '[', '=' and spaces). */
static void yaml_value(FILE *f, const char *v)
{
	if (v[0] != 0 &&
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-") ==
	        strlen(v)) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (const char *c = v; *c; c++) {
		if (*c == '"' || *c == '\\')
			fputc('\\', f);
		fputc(*c, f);
	}
	fputc('"', f);
}

void rw_config_write_sample(FILE *f)
{
	fputs("# rootwalk.yaml.example: every setting rootwalk reads from its --config\n"
	      "# file, with what it does, its default and an example value, commented\n"
	      "# out. Made by `rootwalk --sample-config` from the settings table (the\n"
	      "# same table --help and the parser use). Copy it, uncomment what you\n"
	      "# change, and check it with `rootwalk --config FILE --check-config`.\n"
	      "#\n"
	      "# Each key is also a command-line flag (--key); flags win over the file.\n"
	      "# A repeatable setting is a YAML list. Relative paths are relative to\n"
	      "# this file's folder. SIGHUP or `rootwalk control reload` applies a\n"
	      "# changed file, except settings marked \"restart\".\n",
	      f);
	struct rw_config_setting_info si;
	for (size_t i = 0; rw_config_setting_info(i, &si); i++) {
		if (!si.file_key)
			continue;
		fputs("\n", f);
		/* Bound: the help text's lines. */
		for (const char *h = si.help; *h;) {
			size_t len = strcspn(h, "\n");
			fprintf(f, "# %.*s\n", (int)len, h);
			h += len + (h[len] == '\n');
		}
		if (si.def != NULL || si.restart)
			fprintf(f, "# %s%s%s%s\n", si.def != NULL ? "Default: " : "",
			        si.def != NULL ? si.def : "",
			        si.def != NULL && si.restart ? ". " : "",
			        si.restart ? "Takes a restart to change." : "");
		fprintf(f, "#%s: ", si.name);
		if (!si.takes_value) {
			fputs("true\n", f);
		} else if (si.list) {
			fputc('[', f);
			yaml_value(f, si.example);
			fputs("]\n", f);
		} else {
			yaml_value(f, si.example);
			fputc('\n', f);
		}
	}
}

/* A Markdown table cell: '|' escaped, lines joined. */
static void md_cell(FILE *f, const char *v)
{
	for (const char *c = v; *c; c++) {
		if (*c == '|')
			fputs("\\|", f);
		else if (*c == '\n')
			fputc(' ', f);
		else
			fputc(*c, f);
	}
}

void rw_config_write_reference(FILE *f)
{
	fputs("| flag / key | what it does | default |\n|---|---|---|\n", f);
	struct rw_config_setting_info si;
	for (size_t i = 0; rw_config_setting_info(i, &si); i++) {
		fprintf(f, "| `--%s%s", si.name, si.arg != NULL ? " " : "");
		if (si.arg != NULL)
			md_cell(f, si.arg);
		fprintf(f, "`%s | ",
		        !si.file_key ? " (flag only)"
		        : si.restart ? " (restart)"
		                     : "");
		md_cell(f, si.help);
		fputs(" | ", f);
		if (si.def != NULL) {
			fputc('`', f);
			md_cell(f, si.def);
			fputc('`', f);
		}
		fputs(" |\n", f);
	}
}
