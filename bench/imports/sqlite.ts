/**
 * Loads only `node:sqlite`: its load time at process level is this script's time minus the floor's.
 *
 * @module
 */
import "node:sqlite";
