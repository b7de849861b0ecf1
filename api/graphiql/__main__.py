import sys

from api.graphiql.assets import main

sys.exit(main())
