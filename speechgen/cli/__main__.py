"""python -m speechgen.cli"""

from speechgen.cli import main

main()
