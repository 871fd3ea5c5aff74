/* A program outside the tree using the installed libjourney through its C API. */
#include <journey/journey.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  char err[256];
  journey_tracker *t = journey_tracker_new("{\"endpoint\": \"http://127.0.0.1:1/\"}", err, sizeof err);
  if (t == NULL) {
    fprintf(stderr, "tracker: %s\n", err);
    return 1;
  }
  int rc = journey_track_json(
      t, "{\"type\": \"view\", \"anonymous_id\": \"a\", \"properties\": {\"product\": {\"id\": \"p\"}}}",
      err, sizeof err);
  journey_shutdown(t, 0);
  journey_tracker_free(t);
  if (rc != JOURNEY_OK) {
    fprintf(stderr, "track: %d %s\n", rc, err);
    return 1;
  }
  printf("journey %s\n", journey_version());
  return 0;
}
