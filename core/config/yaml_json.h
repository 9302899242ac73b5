/*
 * YAML documents read into jansson values, so that what reads JSON input
 * (the CloudFormation importer) reads YAML too. Not installed.
 *
 * Mappings become objects (keys must be scalars; a duplicate key is refused,
 * as in JSON), sequences arrays; a plain scalar is null, a boolean, an
 * integer, a real or a string by the YAML core schema, a quoted one always a
 * string. Anchors and aliases are resolved (at most 1024 anchors and 4096
 * alias uses; the value is shared, not copied). CloudFormation's short-form
 * tags become the long form: `!Ref X` -> {"Ref": "X"}, `!GetAtt R.A` ->
 * {"Fn::GetAtt": ["R", "A"]}, `!Sub`, `!Join`, `!If`... -> {"Fn::Sub": ...};
 * any other local tag is refused. One document only, nested at most 64 deep.
 */
#ifndef ORIGINAUDIT_CORE_YAML_JSON_H
#define ORIGINAUDIT_CORE_YAML_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "originaudit/error.h"

/*
 * Reads the YAML in data (len bytes). 0 with *out (the caller's), or a
 * negative errno with err: "LABEL:LINE:COLUMN: what" for a malformed document.
 */
int oa__yaml_to_json(const char *data, size_t len, const char *label, json_t **out, oa_error *err);

#endif
