/* yamldepth: see yamldepth.h. The walk uses libyaml's event API, the same
 * parser the loaders use, so that it agrees with them about what nests. */
#include "yamldepth.h"

#include <stdlib.h>

int yamldepth_exceeded(const char *text, size_t len, int max, yaml_mark_t *at)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int depth = 0, r = 0, done = 0;

	if (!yaml_parser_initialize(&parser))
		abort(); /* only fails on ENOMEM, like xmalloc */
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	/* Each turn takes one event; the stream ends or the parser fails
	 * within a number of events bounded by the text's length. */
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev))
			break;
		switch (ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > max) {
				*at = ev.start_mark;
				r = 1;
				done = 1;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return r;
}
