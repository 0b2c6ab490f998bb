# Copyright (c) dynamicnet contributors. All rights reserved.
