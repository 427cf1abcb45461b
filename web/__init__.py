"""The clerks' Japanese web pages (issue 6), served with the API: Jinja2 shells in ``templates/``,
vanilla ES modules and CSS in ``static/`` (no build step, no CDN). ``api.routes.pages`` serves them."""
