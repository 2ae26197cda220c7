/**
 * The soak's control (bench/soak.ts, `SOAK_TARGETS=wrangler-control`): a Worker with none of our code and
 * no bindings, which reads each request's body and answers like the API would (201 to an upload, 200
 * with a small JSON to anything else). Run under the same wrangler dev with the same schedule, it shows
 * how wrangler's local stack (its proxy and workerd) grows by itself.
 */
export default {
  async fetch(request) {
    const bytes = (await request.arrayBuffer()).byteLength;
    return Response.json({ control: true, method: request.method, bytes }, { status: request.method === 'PUT' ? 201 : 200 });
  },
};
