/**
 * Loads only `js-yaml` (what a hook loads to read a config file that exists).
 *
 * @module
 */
import "js-yaml";
